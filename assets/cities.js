/* CityLens /cities page: the district file goes to the server as a raw streamed body, through the
 * drop zone of upload.js (`window.CityLensDropZone`), to the URL in the zone's data-url, with the
 * name field typed so far. The server checks the file and answers a token and a message, handed
 * to Dash (`dash_clientside.set_props`): the form's callback sends the token when the city is
 * added. Texts come translated in data-msg-* attributes and go in as text, never as HTML.
 */
(function () {
  'use strict';

  // The status line and the token are Dash's: a later callback clears them once the city is added.
  function answer(message, ok, token, file) {
    window.dash_clientside.set_props('city-file-status', {
      children: message,
      className: 'city-file-status ' + (ok ? 'ok' : 'error'),
    });
    window.dash_clientside.set_props('city-districts', {data: token ? {token: token, file: file} : null});
  }

  function start() {
    var dropZone = window.CityLensDropZone;
    var fill = dropZone.fill;
    var size = dropZone.size;
    dropZone({
      zone: 'city-file',
      slot: 'city-file-slot',
      input: 'city-file-input',
      transfer: {row: 'city-file-transfer', bar: 'city-file-bar', fill: 'city-file-fill', text: 'city-file-progress'},
      url: function (z) {
        return z.dataset.url;
      },
      headers: function () {
        var nameField = document.getElementById('city-name-field');
        return {'X-Name-Field': encodeURIComponent((nameField && nameField.value) || '')};
      },
      sendingText: function (z, file, done, total) {
        return done >= total
          ? fill(z.dataset.msgChecking, {file: file.name})
          : fill(z.dataset.msgSending, {file: file.name, done: size(done), size: size(total)});
      },
      started: function (z, file) {
        this(0, fill(z.dataset.msgSending, {file: file.name, done: '0', size: size(file.size)}));
        answer('', true);
      },
      refused: function (z, message) {
        this(undefined);
        answer(message, false);
      },
      answered: function (z, status, reply, file) {
        this(undefined);
        if (status === 201 && reply.token) {
          answer(reply.message || '', true, reply.token, reply.file || file.name);
        } else {
          answer(reply.error || fill(z.dataset.msgFailed, {file: file.name, error: status}), false);
        }
      },
      lost: function (z, file) {
        this(undefined);
        answer(fill(z.dataset.msgNetwork, {file: file.name}), false);
      },
    });
  }

  // upload.js comes after this file among the assets: the zone starts once every script ran.
  if (window.CityLensDropZone) {
    start();
  } else {
    document.addEventListener('DOMContentLoaded', start);
  }
})();
