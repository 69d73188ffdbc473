// The demo page's script: what an integrator's page does with the browser client (client/, which the
// demo server bundles when `npm run dev` starts and serves as one ES module): read the limits, check
// the file before sending it, upload it with progress (multipart, or tus for large files), and turn
// each error code into a sentence a person can act on. No framework and no build step of its own.
import {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_RESUMABLE_ABOVE_BYTES,
  checkAgainstLimits,
  fetchLimits,
  isUploadError,
  upload,
} from './vendor/heygen-upload-client.js';

const params = new URLSearchParams(window.location.search);
// ?precheck=off sends any file as is, to see the proxy's own refusals (413, 415) in the browser.
const precheckEnabled = params.get('precheck') !== 'off';
// Files above the client's threshold go resumable (tus) unless the box is unticked; ?resumable=on|off
// forces it, ?chunk=BYTES sets the chunk size (tests).
const forcedResumable = params.get('resumable');
const chunkSize = Number(params.get('chunk')) > 0 ? Number(params.get('chunk')) : DEFAULT_CHUNK_SIZE;

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
  NETWORK_ERROR: 'Could not reach the upload service. Check your connection and try again.',
};
const RETRYABLE = new Set([408, 429, 502, 503, 504]);
const KIND_NAMES = { image: 'images', video: 'videos', audio: 'audio' };

let proxyUrl = '';
let limits = null;
/** Set when the limits request got no answer at all: see `retriesFor`. */
let serviceUnreachable = false;
let selectedFile = null;
/** The AbortController of the upload in progress, or null. */
let current = null;
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
    limits = await fetchLimits(proxyUrl);
    const parts = Object.entries(limits.max_bytes).map(([kind, max]) => `${KIND_NAMES[kind] || kind} up to ${formatBytes(max)}`);
    el.limits.textContent = `Accepted: ${parts.join(', ')}.`;
    el.limits.dataset.state = 'loaded';
  } catch (error) {
    // The server checks every upload anyway; the pre-check only saves a pointless transfer.
    limits = null;
    serviceUnreachable = isUploadError(error) && error.code === 'NETWORK_ERROR';
    el.limits.textContent = 'Could not load the limits; the service will check the file when you upload it.';
    el.limits.dataset.state = 'unavailable';
  }
}

/**
 * The proxy's first checks, made here so that a file it would refuse is not sent at all: the size
 * with the client's own check (the proxy's code and words), and the type against the listed ones
 * (the client leaves types to the proxy, which also takes aliases such as image/jpg; this page
 * prefers to tell the person at once, and its file picker offers only the listed types anyway).
 */
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
  const refusal = checkAgainstLimits(file, limits);
  if (refusal === null) return null;
  return { code: refusal.code, message: `This file is too large (${formatBytes(file.size)}). ${refusal.message}` };
}

function selectFile(file) {
  selectedFile = file;
  el.result.hidden = true;
  setProgress(0);
  el.fileInfo.hidden = false;
  el.fileInfo.textContent = `${file.name}: ${file.type || 'unknown type'}, ${formatBytes(file.size)}`;
  // ?precheck=off shows the proxy's own answers to a plain POST, so it picks resumable only when asked.
  el.resumable.checked =
    forcedResumable === 'on' || (forcedResumable !== 'off' && precheckEnabled && file.size > DEFAULT_RESUMABLE_ABOVE_BYTES);
  const problem = precheck(file);
  if (problem) {
    el.upload.disabled = true;
    setStatus('error', problem.message, { code: problem.code, detail: 'Checked in your browser; nothing was sent.' });
    return;
  }
  el.upload.disabled = false;
  setStatus('info', `Ready to upload ${file.name}.`);
}

/** The client's UploadError as a headline, the proxy's own words, and what to do next. */
function describeFailure(error) {
  const headline = CODE_HEADLINES[error.code] || HEADLINES[error.status] || `The upload failed (HTTP ${error.status}).`;
  const sentences = [headline];
  // For NETWORK_ERROR the client's message names the service; the detail line says it instead.
  if (error.status !== 0 && error.message && error.message !== headline) sentences.push(error.message);
  if (RETRYABLE.has(error.status)) {
    const seconds = error.retryAfterSeconds;
    sentences.push(seconds !== null && seconds > 0 ? `Try again in ${Math.ceil(seconds)} s.` : 'Try again shortly.');
  }
  const detail =
    error.status === 0
      ? `No answer from ${proxyUrl} (a network failure, or this page's origin is not allowed to read the service's answers).`
      : `HTTP ${error.status} ${error.code}${error.requestId ? `, request id ${error.requestId}` : ''}`;
  return { message: sentences.join(' '), detail };
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

/**
 * The client retries an upload that got no answer (with the same Idempotency-Key, or from the tus
 * offset). But when even the limits got no answer, this page's origin is most likely one the proxy
 * does not list, and a browser cannot tell that from a dropped connection: retrying would only keep
 * the person waiting about 15 s for the same "could not reach" message. So such a page sends once.
 */
function retriesFor() {
  return serviceUnreachable ? { retryDelaysMs: [] } : {};
}

/** The page while an upload runs: only Cancel is live. `finish` undoes it. */
function start(status) {
  el.upload.disabled = true;
  el.input.disabled = true;
  el.cancel.hidden = false;
  el.cancel.disabled = false;
  el.result.hidden = true;
  setProgress(0);
  setStatus('busy', status);
}

function finish() {
  current = null;
  el.cancel.hidden = true;
  el.upload.disabled = selectedFile === null;
  el.input.disabled = false;
}

async function send(file) {
  const resumable = el.resumable.checked;
  const controller = new AbortController();
  current = controller;
  let resumes = 0;
  start(`Uploading ${file.name}${resumable ? ' (resumable)' : ''}…`);
  try {
    const asset = await upload(file, {
      baseUrl: proxyUrl,
      // The page checked the file when it was picked (or was told not to, with ?precheck=off).
      checkLimits: false,
      // The box decides: tus for any size when ticked, one multipart POST otherwise.
      resumableAboveBytes: resumable ? 0 : Number.POSITIVE_INFINITY,
      chunkSize,
      signal: controller.signal,
      ...retriesFor(),
      onProgress({ loaded, total }) {
        if (total > 0) setProgress(Math.round((loaded / total) * 100));
        if (loaded === total) setStatus('busy', `Sent ${file.name}; waiting for the media service…`);
      },
      onRetry({ error, delayMs }) {
        if (resumable) {
          resumes += 1;
          document.body.dataset.resumes = String(resumes);
          setStatus('busy', `The connection dropped; resuming ${file.name} where it stopped…`, { code: 'RESUMING' });
        } else {
          const why = error.status === 0 ? 'The connection dropped' : describeFailure(error).message;
          setStatus('busy', `${why} Sending ${file.name} again in ${Math.ceil(delayMs / 1000)} s…`, { code: 'RETRYING' });
        }
      },
    });
    setProgress(100);
    setStatus('success', `Uploaded ${file.name}.`, { detail: `Asset id ${asset.id}${resumes > 0 ? `, resumed ${resumes}×` : ''}` });
    showResult(asset, file);
  } catch (error) {
    setProgress(0);
    if (isUploadError(error) && error.code === 'CANCELLED') {
      setStatus('info', 'Upload cancelled.', { code: 'CANCELLED' });
    } else if (isUploadError(error)) {
      const failure = describeFailure(error);
      setStatus('error', failure.message, { code: error.code, httpStatus: error.status, detail: failure.detail });
    } else {
      setStatus('error', 'Something went wrong in this page.', { code: 'PAGE_ERROR', detail: String(error) });
    }
  } finally {
    finish();
  }
}

el.input.addEventListener('change', () => {
  if (el.input.files && el.input.files[0]) selectFile(el.input.files[0]);
});

for (const name of ['dragenter', 'dragover']) {
  el.dropZone.addEventListener(name, (event) => {
    event.preventDefault();
    if (!current) el.dropZone.classList.add('dragging');
  });
}
el.dropZone.addEventListener('dragleave', () => el.dropZone.classList.remove('dragging'));
el.dropZone.addEventListener('drop', (event) => {
  event.preventDefault();
  el.dropZone.classList.remove('dragging');
  if (current) return;
  const files = event.dataTransfer ? event.dataTransfer.files : null;
  if (files && files[0]) selectFile(files[0]);
});

el.form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (selectedFile && !current) void send(selectedFile);
});
el.cancel.addEventListener('click', () => {
  // A resumable upload is also ended on the server (DELETE) before the client reports CANCELLED.
  if (current) {
    el.cancel.disabled = true;
    setStatus('busy', 'Cancelling…');
    current.abort();
  }
});

proxyUrl = await loadProxyUrl();
el.proxyUrl.textContent = proxyUrl;
await loadLimits();
if (!precheckEnabled) el.limits.textContent += ' (Checks in the browser are off: the service decides.)';
document.body.dataset.ready = 'true';
