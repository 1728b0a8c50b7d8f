/* CityLens /cities page: the district file goes to the server as a raw streamed body.
 *
 * As on the upload page (upload.js), the <input type=file> is made here, inside
 * #city-file-slot, whenever the form is drawn: Dash's own upload component would read the file
 * into the page and send it base64-encoded inside a callback. A chosen or dropped file is sent
 * with XMLHttpRequest to the URL in the zone's data-url (the browser streams it from disk;
 * `xhr.upload.onprogress` drives the bar), with the session's CSRF token and the name field
 * typed so far. The server checks the file and answers a token and a message, handed to Dash
 * (`dash_clientside.set_props`): the form's callback sends the token when the city is added.
 * Texts come translated in data-msg-* attributes and go in as text, never as HTML.
 */
(function () {
  'use strict';

  function zone() {
    return document.getElementById('city-file');
  }

  function fill(template, values) {
    return String(template || '').replace(/\{(\w+)\}/g, function (_, key) {
      return key in values ? String(values[key]) : '';
    });
  }

  function size(bytes) {
    var units = ['bytes', 'KB', 'MB', 'GB'];
    var n = bytes;
    var i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i += 1;
    }
    return (i === 0 ? n : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
  }

  function ensureInput() {
    var slot = document.getElementById('city-file-slot');
    if (!slot || slot.querySelector('input[type=file]')) {
      return;
    }
    var z = zone();
    var input = document.createElement('input');
    input.type = 'file';
    input.id = 'city-file-input';
    input.className = 'upload-file';
    input.accept = (z && z.dataset.accept) || '';
    var label = document.createElement('label');
    label.className = 'btn btn-primary upload-choose';
    label.setAttribute('for', 'city-file-input');
    label.textContent = (z && z.dataset.msgChoose) || 'Choose a file';
    slot.appendChild(input); // first, so `.upload-file:focus-visible + label` can show focus
    slot.appendChild(label);
  }

  function progress(fraction, text) {
    var row = document.getElementById('city-file-transfer');
    var bar = document.getElementById('city-file-bar');
    var barFill = document.getElementById('city-file-fill');
    var label = document.getElementById('city-file-progress');
    if (row) {
      row.hidden = fraction === undefined;
    }
    if (fraction === undefined) {
      return;
    }
    var pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
    if (barFill) {
      barFill.style.width = pct + '%';
    }
    if (bar) {
      bar.setAttribute('aria-valuenow', String(pct));
    }
    if (label) {
      label.textContent = text || pct + ' %';
    }
  }

  // The status line and the token are Dash's: a later callback clears them once the city is added.
  function answer(message, ok, token, file) {
    window.dash_clientside.set_props('city-file-status', {
      children: message,
      className: 'city-file-status ' + (ok ? 'ok' : 'error'),
    });
    window.dash_clientside.set_props('city-districts', {data: token ? {token: token, file: file} : null});
  }

  function send(file) {
    var z = zone();
    if (!z || !file) {
      return;
    }
    var max = Number(z.dataset.max || 0);
    if (max && file.size > max) {
      progress(undefined);
      answer(fill(z.dataset.msgTooLarge, {file: file.name, size: size(file.size), max: size(max)}), false);
      return;
    }
    var nameField = document.getElementById('city-name-field');
    var xhr = new XMLHttpRequest();
    xhr.open('POST', z.dataset.url);
    xhr.setRequestHeader('X-CSRF-Token', z.dataset.csrf || '');
    xhr.setRequestHeader('X-Filename', encodeURIComponent(file.name));
    xhr.setRequestHeader('X-Name-Field', encodeURIComponent((nameField && nameField.value) || ''));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        var done = event.loaded >= event.total;
        progress(
          event.loaded / event.total,
          done
            ? fill(z.dataset.msgChecking, {file: file.name})
            : fill(z.dataset.msgSending, {file: file.name, done: size(event.loaded), size: size(event.total)})
        );
      }
    };
    xhr.onload = function () {
      var reply = {};
      try {
        reply = JSON.parse(xhr.responseText || '{}');
      } catch (err) {
        reply = {};
      }
      progress(undefined);
      if (xhr.status === 201 && reply.token) {
        answer(reply.message || '', true, reply.token, reply.file || file.name);
      } else {
        answer(reply.error || fill(z.dataset.msgFailed, {file: file.name, error: xhr.status}), false);
      }
    };
    xhr.onerror = function () {
      progress(undefined);
      answer(fill(z.dataset.msgNetwork, {file: file.name}), false);
    };
    progress(0, fill(z.dataset.msgSending, {file: file.name, done: '0', size: size(file.size)}));
    answer('', true);
    xhr.send(file);
  }

  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target && target.id === 'city-file-input' && target.files && target.files.length) {
      send(target.files[0]);
      target.value = '';
    }
  });

  function inZone(event) {
    var z = zone();
    return z && event.target instanceof Node && z.contains(event.target) ? z : null;
  }

  document.addEventListener('dragover', function (event) {
    var z = inZone(event);
    if (z) {
      event.preventDefault();
      z.classList.add('dragging');
    }
  });
  document.addEventListener('dragleave', function (event) {
    var z = inZone(event);
    if (z && !z.contains(event.relatedTarget)) {
      z.classList.remove('dragging');
    }
  });
  document.addEventListener('drop', function (event) {
    var z = inZone(event);
    if (z) {
      event.preventDefault();
      z.classList.remove('dragging');
      if (event.dataTransfer && event.dataTransfer.files.length) {
        send(event.dataTransfer.files[0]);
      }
    }
  });

  new MutationObserver(ensureInput).observe(document.documentElement, {childList: true, subtree: true});
  document.addEventListener('DOMContentLoaded', ensureInput);
})();
