/* CityLens drop zones: a file goes to the server as a raw streamed body.
 *
 * `window.CityLensDropZone(options)` runs one zone; the upload page's is set up at the end of this
 * file, the /cities page's in cities.js. The <input type=file> is created here (Dash has no file
 * input that does not read the file into the page as base64) inside the zone's slot, whenever
 * the page is drawn. A chosen or dropped file is sent with XMLHttpRequest straight from disk: the
 * browser streams it, the page never holds it, and `xhr.upload.onprogress` drives the transfer
 * bar. What the server answers is the zone's to show (`answered`). Texts come translated in the
 * zone's data-msg-* attributes; every text written here goes in with textContent, never as HTML.
 *
 * options: zone, slot, input (element ids); name (the input's name, optional); transfer {row,
 * bar, fill, text} (ids of the progress row); url(z) and headers(z) (the request); and the hooks
 * sendingText(z, file, done, total), started(z, file), refused(z, message),
 * answered(z, status, reply, file), lost(z, file) — each hook is given `progress` as `this`.
 */
(function () {
  'use strict';

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

  function dropZone(options) {
    function zone() {
      return document.getElementById(options.zone);
    }

    function ensureInput() {
      var slot = document.getElementById(options.slot);
      if (!slot || slot.querySelector('input[type=file]')) {
        return;
      }
      var z = zone();
      var label = document.createElement('label');
      label.className = 'btn btn-primary upload-choose';
      label.setAttribute('for', options.input);
      label.textContent = (z && z.dataset.msgChoose) || 'Choose a file';
      var input = document.createElement('input');
      input.type = 'file';
      input.id = options.input;
      if (options.name) {
        input.name = options.name;
      }
      input.className = 'upload-file';
      if (z && z.dataset.accept) {
        input.accept = z.dataset.accept;
      }
      slot.appendChild(input); // first, so `.upload-file:focus-visible + label` can show focus
      slot.appendChild(label);
    }

    // The transfer bar: hidden when `fraction` is undefined, else filled to it with `text`.
    function progress(fraction, text) {
      var ids = options.transfer;
      var row = document.getElementById(ids.row);
      var bar = document.getElementById(ids.bar);
      var barFill = document.getElementById(ids.fill);
      var label = document.getElementById(ids.text);
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

    function send(file) {
      var z = zone();
      if (!z || !file) {
        return;
      }
      var max = Number(z.dataset.max || 0);
      if (max && file.size > max) {
        options.refused.call(progress, z, fill(z.dataset.msgTooLarge, {file: file.name, size: size(file.size), max: size(max)}));
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open('POST', options.url(z));
      xhr.setRequestHeader('X-CSRF-Token', z.dataset.csrf || '');
      xhr.setRequestHeader('X-Filename', encodeURIComponent(file.name));
      var extra = options.headers ? options.headers(z) : {};
      Object.keys(extra).forEach(function (name) {
        xhr.setRequestHeader(name, extra[name]);
      });
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          progress(event.loaded / event.total, options.sendingText(z, file, event.loaded, event.total));
        }
      };
      xhr.onload = function () {
        var reply = {};
        try {
          reply = JSON.parse(xhr.responseText || '{}');
        } catch (err) {
          reply = {};
        }
        options.answered.call(progress, z, xhr.status, reply, file);
      };
      xhr.onerror = function () {
        options.lost.call(progress, z, file);
      };
      options.started.call(progress, z, file);
      xhr.send(file);
    }

    document.addEventListener('change', function (event) {
      var target = event.target;
      if (target && target.id === options.input && target.files && target.files.length) {
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
    ensureInput();
  }

  dropZone.fill = fill;
  dropZone.size = size;
  window.CityLensDropZone = dropZone;

  // The upload page: the server answers with a job token, handed to Dash
  // (`dash_clientside.set_props`) so the page follows the processing.
  function uploadError(message) {
    var error = document.getElementById('upload-transfer-error');
    if (error) {
      error.textContent = message || '';
    }
  }

  function uploadSending(z, file, done, total) {
    return fill(z.dataset.msgSending, {file: file.name, done: size(done), size: size(total)});
  }

  dropZone({
    zone: 'upload-drop',
    slot: 'upload-input-slot',
    input: 'upload-file',
    name: 'file',
    transfer: {row: 'upload-transfer', bar: 'upload-transfer-bar', fill: 'upload-transfer-fill', text: 'upload-transfer-text'},
    url: function () {
      return '/upload';
    },
    sendingText: uploadSending,
    started: function (z, file) {
      this(0, fill(z.dataset.msgSending, {file: file.name, done: '0', size: size(file.size)}));
      uploadError('');
    },
    refused: function (z, message) {
      this(undefined);
      uploadError(message);
    },
    answered: function (z, status, reply, file) {
      if (status === 201 && reply.token) {
        this(1, fill(z.dataset.msgSent, {file: reply.file || file.name, size: size(file.size)}));
        uploadError('');
        window.dash_clientside.set_props('upload-job', {data: {token: reply.token, at: Date.now()}});
      } else {
        this(0);
        uploadError(fill(z.dataset.msgFailed, {file: file.name, error: reply.error || status}));
      }
    },
    lost: function (z, file) {
      this(0);
      uploadError(fill(z.dataset.msgNetwork, {file: file.name}));
    },
  });
})();
