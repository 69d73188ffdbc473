// What every widget page shares: where to upload (?endpoint=), how a test hands it a file, and where
// the page writes what its widget reported. The widget's own callbacks fill `outcomes`; nothing here
// talks to the proxy.
window.endpoint = new URLSearchParams(location.search).get('endpoint');
window.outcomes = [];
window.progress = [];
window.formsSent = [];

// Records the parts of every FormData the widget sends (name, and whether it is a file), because
// Chromium does not hand a form with a file body to the test. It only watches: the upload is sent
// unchanged.
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
  if (body instanceof FormData) {
    window.formsSent.push([...body.entries()].map(([name, value]) => ({ name, file: value instanceof Blob })));
  }
  return send.call(this, body);
};

/** A File from bytes the test sends (base64), as a user's pick or drop would give the widget. */
window.fileFrom = (name, type, base64) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new File([bytes], name, { type });
};

window.reportSuccess = (id) => window.outcomes.push({ state: 'success', id });

/** The status and the proxy's `error.code`, as the widget's error callback hands them over. */
window.reportError = (status, body) => {
  let parsed = body;
  if (typeof body === 'string') {
    try { parsed = JSON.parse(body); } catch { parsed = null; }
  }
  window.outcomes.push({ state: 'error', status, code: parsed?.error?.code ?? null, message: parsed?.error?.message ?? null });
};
