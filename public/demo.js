// The demo page's script: no framework, no build step. It shows what an integrator's page does:
// read the limits, check the file before sending it, upload with XHR (fetch has no upload progress),
// and turn each error code into a sentence a person can act on.
'use strict';

(function () {
  const params = new URLSearchParams(window.location.search);
  // ?precheck=off sends any file as is, to see the proxy's own refusals (413, 415) in the browser.
  const precheckEnabled = params.get('precheck') !== 'off';
  // Files above this go resumable (tus) unless the box is unticked; ?resumable=on|off forces it,
  // ?chunk=BYTES sets the chunk size (tests).
  const RESUMABLE_ABOVE_BYTES = 8 * 1024 * 1024;
  const forcedResumable = params.get('resumable');
  const chunkSize = Number(params.get('chunk')) > 0 ? Number(params.get('chunk')) : 8 * 1024 * 1024;

  const el = {
    proxyUrl: document.getElementById('proxy-url'),
    form: document.getElementById('upload-form'),
    dropZone: document.getElementById('drop-zone'),
    input: document.getElementById('file'),
    limits: document.getElementById('limits'),
    fileInfo: document.getElementById('file-info'),
    resumable: document.getElementById('resumable'),
    upload: document.getElementById('upload'),
    cancel: document.getElementById('cancel'),
    progress: document.getElementById('progress'),
    progressText: document.getElementById('progress-text'),
    status: document.getElementById('status'),
    result: document.getElementById('result'),
    resultId: document.getElementById('result-id'),
    resultType: document.getElementById('result-type'),
    resultUrl: document.getElementById('result-url'),
    preview: document.getElementById('preview'),
  };

  /** Headlines per HTTP status; the proxy's own message (error.message) follows as the detail. */
  const HEADLINES = {
    400: 'The upload service could not read this upload.',
    401: 'This upload needs a valid upload token.',
    403: 'This page is not allowed to upload to this service.',
    404: 'The upload address is wrong.',
    405: 'The upload address is wrong.',
    408: 'The upload stalled and was cut off. Check your connection and try again.',
    409: 'The same upload is already in progress.',
    413: 'This file is too large.',
    415: 'This type of file is not accepted.',
    422: 'The media service refused this file, or this upload key was already used for another file.',
    429: 'Too many uploads for now.',
    500: 'Something went wrong in the upload service.',
    502: 'The media service could not take the upload.',
    503: 'The upload service is busy or restarting.',
    504: 'The media service did not answer in time.',
  };
  /** Codes whose answer is more specific than their status's headline. */
  const CODE_HEADLINES = {
    UPSTREAM_BUSY: 'The media service is busy right now.',
    UPSTREAM_REJECTED_FILE: 'The media service refused this file. It may be damaged; try another file.',
    IDEMPOTENCY_KEY_REUSED: 'This upload key was already used for a different file.',
  };
  const RETRYABLE = new Set([408, 429, 502, 503, 504]);
  const KIND_NAMES = { image: 'images', video: 'videos', audio: 'audio' };

  let proxyUrl = '';
  let limits = null;
  let selectedFile = null;
  let currentRequest = null;
  let previewUrl = null;

  function formatBytes(bytes) {
    if (bytes < 1024) return `${bytes} bytes`;
    const units = ['KiB', 'MiB', 'GiB'];
    let value = bytes / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return `${value >= 10 || Number.isInteger(value) ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
  }

  /** One live region for everything the user should hear; data-* attributes say what state it is in. */
  function setStatus(state, message, extra) {
    const details = extra || {};
    el.status.dataset.state = state;
    el.status.dataset.code = details.code || '';
    el.status.dataset.httpStatus = details.httpStatus ? String(details.httpStatus) : '';
    el.status.textContent = '';
    const text = document.createElement('span');
    text.className = 'status-message';
    text.textContent = message;
    el.status.append(text);
    if (details.detail) {
      const small = document.createElement('span');
      small.className = 'status-detail';
      small.textContent = details.detail;
      el.status.append(small);
    }
  }

  function setProgress(percent) {
    el.progress.value = percent;
    el.progress.textContent = `${percent}%`;
    el.progressText.textContent = `${percent}%`;
  }

  async function loadProxyUrl() {
    const fromQuery = params.get('proxy');
    if (fromQuery) return fromQuery.replace(/\/+$/, '');
    try {
      const response = await fetch('config.json', { cache: 'no-store' });
      if (response.ok) {
        const config = await response.json();
        if (typeof config.proxyUrl === 'string') return config.proxyUrl.replace(/\/+$/, '');
      }
    } catch {
      // No config served: fall back to this page's own origin (the proxy serving the page itself).
    }
    return window.location.origin;
  }

  async function loadLimits() {
    try {
      const response = await fetch(`${proxyUrl}/v1/limits`, { cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      limits = await response.json();
      const parts = Object.entries(limits.max_bytes).map(([kind, max]) => `${KIND_NAMES[kind] || kind} up to ${formatBytes(max)}`);
      el.limits.textContent = `Accepted: ${parts.join(', ')}.`;
      el.limits.dataset.state = 'loaded';
    } catch {
      // The server checks every upload anyway; the pre-check only saves a pointless transfer.
      limits = null;
      el.limits.textContent = 'Could not load the limits; the service will check the file when you upload it.';
      el.limits.dataset.state = 'unavailable';
    }
  }

  /** The same checks the proxy makes first, so a file it would refuse is not sent at all. */
  function precheck(file) {
    if (file.size === 0) return { code: 'EMPTY_FILE', message: 'This file is empty.' };
    if (!precheckEnabled || limits === null) return null;
    const accepted = limits.types.find((type) => type.media_type === file.type);
    if (file.type && !accepted) {
      const names = limits.types.map((type) => type.media_type.split('/')[1].toUpperCase());
      return {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: `This type of file (${file.type}) is not accepted. Choose a ${[...new Set(names)].join(', ')} file.`,
      };
    }
    const max = accepted ? accepted.max_bytes : Math.max(...Object.values(limits.max_bytes));
    if (file.size > max) {
      const kind = accepted ? KIND_NAMES[accepted.kind] : 'files';
      return {
        code: 'FILE_TOO_LARGE',
        message: `This file is too large: ${formatBytes(file.size)}, and ${kind} may be at most ${formatBytes(max)}.`,
      };
    }
    return null;
  }

  function selectFile(file) {
    selectedFile = file;
    el.result.hidden = true;
    setProgress(0);
    el.fileInfo.hidden = false;
    el.fileInfo.textContent = `${file.name}: ${file.type || 'unknown type'}, ${formatBytes(file.size)}`;
    // ?precheck=off shows the proxy's own answers to a plain POST, so it picks resumable only when asked.
    el.resumable.checked = forcedResumable === 'on' || (forcedResumable !== 'off' && precheckEnabled && file.size > RESUMABLE_ABOVE_BYTES);
    const problem = precheck(file);
    if (problem) {
      el.upload.disabled = true;
      setStatus('error', problem.message, { code: problem.code, detail: 'Checked in your browser; nothing was sent.' });
      return;
    }
    el.upload.disabled = false;
    setStatus('info', `Ready to upload ${file.name}.`);
  }

  function describeFailure(status, body, retryAfter, requestId) {
    const error = body && typeof body === 'object' && body.error ? body.error : null;
    const headline = (error && CODE_HEADLINES[error.code]) || HEADLINES[status] || `The upload failed (HTTP ${status}).`;
    const sentences = [headline];
    if (error && error.message && error.message !== headline) sentences.push(error.message);
    if (RETRYABLE.has(status)) {
      const seconds = Number(retryAfter);
      sentences.push(Number.isFinite(seconds) && seconds > 0 ? `Try again in ${Math.ceil(seconds)} s.` : 'Try again shortly.');
    }
    const code = error && error.code ? error.code : `HTTP_${status}`;
    const id = (error && error.request_id) || requestId;
    return {
      message: sentences.join(' '),
      code,
      detail: `HTTP ${status} ${code}${id ? `, request id ${id}` : ''}`,
    };
  }

  function showResult(asset, file) {
    el.resultId.textContent = asset.id;
    el.resultType.textContent = asset.file_type || file.type;
    el.resultUrl.textContent = asset.url;
    el.resultUrl.href = asset.url;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = null;
    // Preview from the local file: the asset URL is HeyGen's, and this page need not load from it.
    if (file.type.startsWith('image/')) {
      previewUrl = URL.createObjectURL(file);
      el.preview.src = previewUrl;
      el.preview.alt = `Preview of ${file.name}`;
      el.preview.hidden = false;
    } else {
      el.preview.hidden = true;
      el.preview.removeAttribute('src');
    }
    el.result.hidden = false;
  }

  /** The page while an upload runs: only Cancel is live. `finish` undoes it. */
  function start(status) {
    el.upload.disabled = true;
    el.input.disabled = true;
    el.cancel.hidden = false;
    el.result.hidden = true;
    setProgress(0);
    setStatus('busy', status);
  }

  function finish() {
    currentRequest = null;
    el.cancel.hidden = true;
    el.upload.disabled = selectedFile === null;
    el.input.disabled = false;
  }

  function upload(file) {
    const form = new FormData();
    form.append('file', file, file.name);
    const xhr = new XMLHttpRequest();
    currentRequest = xhr;
    xhr.open('POST', `${proxyUrl}/v1/asset`);
    xhr.responseType = 'text';

    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && event.total > 0) setProgress(Math.round((event.loaded / event.total) * 100));
    });
    xhr.upload.addEventListener('load', () => {
      setProgress(100);
      setStatus('busy', `Sent ${file.name}; waiting for the media service…`);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201 && body && body.id) {
        setStatus('success', `Uploaded ${file.name}.`, { detail: `Asset id ${body.id}` });
        showResult(body, file);
      } else {
        const failure = describeFailure(xhr.status, body, xhr.getResponseHeader('Retry-After'), xhr.getResponseHeader('X-Request-Id'));
        setStatus('error', failure.message, { code: failure.code, httpStatus: xhr.status, detail: failure.detail });
        setProgress(0);
      }
      finish();
    });
    // Status 0: the connection failed, or the answer came without CORS headers for this origin;
    // browsers deliberately do not tell the page which.
    xhr.addEventListener('error', () => {
      setStatus('error', 'Could not reach the upload service. Check your connection and try again.', {
        code: 'NETWORK_ERROR',
        detail: `No answer from ${proxyUrl} (a network failure, or this page's origin is not allowed to read the service's answers).`,
      });
      setProgress(0);
      finish();
    });
    xhr.addEventListener('abort', () => {
      setStatus('info', 'Upload cancelled.', { code: 'CANCELLED' });
      setProgress(0);
      finish();
    });

    start(`Uploading ${file.name}…`);
    xhr.send(form);
  }

  /**
   * The same file through the tus endpoint with tus-js-client: chunks of `chunkSize`, retried from
   * the server's offset after a dropped connection, the asset record in the last chunk's answer.
   */
  function uploadResumable(file) {
    let resumes = 0;
    const upload = new window.tus.Upload(file, {
      endpoint: `${proxyUrl}/v1/uploads`,
      metadata: { filename: file.name, filetype: file.type },
      chunkSize,
      retryDelays: [0, 500, 1000, 2000, 4000, 8000],
      removeFingerprintOnSuccess: true,
      onProgress(sent, total) {
        if (total > 0) setProgress(Math.round((sent / total) * 100));
        if (sent === total) setStatus('busy', `Sent ${file.name}; waiting for the media service…`);
      },
      onShouldRetry(error) {
        const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
        // Refusals are final (except an offset conflict or a busy upload); network errors and 5xx are retried.
        const retry = !(status >= 400 && status < 500 && status !== 409 && status !== 423);
        if (retry) {
          resumes += 1;
          document.body.dataset.resumes = String(resumes);
          setStatus('busy', `The connection dropped; resuming ${file.name} where it stopped…`, { code: 'RESUMING' });
        }
        return retry;
      },
      onSuccess({ lastResponse }) {
        let body = null;
        try {
          body = JSON.parse(lastResponse.getBody());
        } catch {
          body = null;
        }
        if (body && body.id) {
          setStatus('success', `Uploaded ${file.name}.`, { detail: `Asset id ${body.id}${resumes > 0 ? `, resumed ${resumes}×` : ''}` });
          showResult(body, file);
        } else {
          setStatus('error', 'The upload finished but the media service has not confirmed it yet.', { code: 'FORWARDING', detail: upload.url || '' });
        }
        finish();
      },
      onError(error) {
        const response = error.originalResponse;
        if (!response) {
          setStatus('error', 'Could not reach the upload service. Check your connection and try again.', { code: 'NETWORK_ERROR', detail: String(error.message || error) });
        } else {
          let body = null;
          try {
            body = JSON.parse(response.getBody());
          } catch {
            body = null;
          }
          const status = response.getStatus();
          const failure = describeFailure(status, body, response.getHeader('Retry-After'), response.getHeader('X-Request-Id'));
          setStatus('error', failure.message, { code: failure.code, httpStatus: status, detail: failure.detail });
        }
        setProgress(0);
        finish();
      },
    });
    currentRequest = {
      abort() {
        // Terminates the upload on the server too (DELETE): its bytes are removed.
        upload.abort(true).catch(() => undefined);
        setStatus('info', 'Upload cancelled.', { code: 'CANCELLED' });
        setProgress(0);
        finish();
      },
    };
    start(`Uploading ${file.name} (resumable)…`);
    upload.start();
  }

  el.input.addEventListener('change', () => {
    if (el.input.files && el.input.files[0]) selectFile(el.input.files[0]);
  });

  for (const name of ['dragenter', 'dragover']) {
    el.dropZone.addEventListener(name, (event) => {
      event.preventDefault();
      if (!currentRequest) el.dropZone.classList.add('dragging');
    });
  }
  el.dropZone.addEventListener('dragleave', () => el.dropZone.classList.remove('dragging'));
  el.dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    el.dropZone.classList.remove('dragging');
    if (currentRequest) return;
    const files = event.dataTransfer ? event.dataTransfer.files : null;
    if (files && files[0]) selectFile(files[0]);
  });

  el.form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (selectedFile && !currentRequest) (el.resumable.checked && window.tus ? uploadResumable : upload)(selectedFile);
  });
  el.cancel.addEventListener('click', () => {
    if (currentRequest) currentRequest.abort();
  });

  (async () => {
    proxyUrl = await loadProxyUrl();
    el.proxyUrl.textContent = proxyUrl;
    await loadLimits();
    if (!precheckEnabled) el.limits.textContent += ' (Checks in the browser are off: the service decides.)';
    document.body.dataset.ready = 'true';
  })();
})();
