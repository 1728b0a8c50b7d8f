/* CityLens upload page: the file goes to the server as a raw streamed body.
 *
 * The <input type=file> is created here (Dash has no file input that does not read the file
 * into the page as base64) inside #upload-input-slot, whenever the page is drawn. A chosen or
 * dropped file is sent with XMLHttpRequest straight from disk: the browser streams it, this
 * page never holds it, and `xhr.upload.onprogress` drives the transfer bar. The server answers
 * with a job token, handed to Dash (`dash_clientside.set_props`) so the page follows the
 * processing. Texts come translated in data-msg-* attributes; every text written here goes in
 * with textContent, never as HTML.
 */
(function () {
  'use strict';

  function zone() {
    return document.getElementById('upload-drop');
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
    var slot = document.getElementById('upload-input-slot');
    if (!slot || slot.querySelector('input[type=file]')) {
      return;
    }
    var z = zone();
    var label = document.createElement('label');
    label.className = 'btn btn-primary upload-choose';
    label.setAttribute('for', 'upload-file');
    label.textContent = (z && z.dataset.msgChoose) || 'Choose a file';
    var input = document.createElement('input');
    input.type = 'file';
    input.id = 'upload-file';
    input.name = 'file';
    input.className = 'upload-file';
    if (z && z.dataset.accept) {
      input.accept = z.dataset.accept;
    }
    slot.appendChild(input); // first, so `.upload-file:focus-visible + label` can show focus
    slot.appendChild(label);
  }

  function show(state) {
    var row = document.getElementById('upload-transfer');
    var bar = document.getElementById('upload-transfer-bar');
    var barFill = document.getElementById('upload-transfer-fill');
    var text = document.getElementById('upload-transfer-text');
    var error = document.getElementById('upload-transfer-error');
    if (row) {
      row.hidden = state.fraction === undefined;
    }
    if (state.fraction !== undefined) {
      var pct = Math.round(Math.max(0, Math.min(1, state.fraction)) * 100);
      if (barFill) {
        barFill.style.width = pct + '%';
      }
      if (bar) {
        bar.setAttribute('aria-valuenow', String(pct));
      }
      if (text) {
        text.textContent = state.text || pct + ' %';
      }
    }
    if (error) {
      error.textContent = state.error || '';
    }
  }

  function send(file) {
    var z = zone();
    if (!z || !file) {
      return;
    }
    var max = Number(z.dataset.max || 0);
    if (max && file.size > max) {
      show({error: fill(z.dataset.msgTooLarge, {file: file.name, size: size(file.size), max: size(max)})});
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/upload');
    xhr.setRequestHeader('X-CSRF-Token', z.dataset.csrf || '');
    xhr.setRequestHeader('X-Filename', encodeURIComponent(file.name));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) {
        show({
          fraction: event.loaded / event.total,
          text: fill(z.dataset.msgSending, {file: file.name, done: size(event.loaded), size: size(event.total)}),
        });
      }
    };
    xhr.onload = function () {
      var answer = {};
      try {
        answer = JSON.parse(xhr.responseText || '{}');
      } catch (err) {
        answer = {};
      }
      if (xhr.status === 201 && answer.token) {
        show({fraction: 1, text: fill(z.dataset.msgSent, {file: answer.file || file.name, size: size(file.size)})});
        window.dash_clientside.set_props('upload-job', {data: {token: answer.token, at: Date.now()}});
      } else {
        show({fraction: 0, error: fill(z.dataset.msgFailed, {file: file.name, error: answer.error || xhr.status})});
      }
    };
    xhr.onerror = function () {
      show({fraction: 0, error: fill(z.dataset.msgNetwork, {file: file.name})});
    };
    show({fraction: 0, text: fill(z.dataset.msgSending, {file: file.name, done: '0', size: size(file.size)})});
    xhr.send(file);
  }

  document.addEventListener('change', function (event) {
    var target = event.target;
    if (target && target.id === 'upload-file' && target.files && target.files.length) {
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
