// The Marquee API over fetch: the bearer token, errors as readable messages.
const TOKEN = 'marquee.token';

export const session = {
  get token() { return localStorage.getItem(TOKEN); },
  set(token) { localStorage.setItem(TOKEN, token); },
  clear() { localStorage.removeItem(TOKEN); session.user = null; },
  user: null,
};

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

function message(status, body) {
  if (status === 503 && body.code === 'search_unavailable') return 'Search is unavailable, try again.';
  if (status === 503) return 'The service is unavailable right now, try again.';
  if (status === 401) return 'Your session has ended: sign in again.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status === 412) return 'Someone changed this meanwhile: reload and try again.';
  if (status === 429) return 'Too many requests: wait a moment and try again.';
  if (status === 422 && Array.isArray(body.errors) && body.errors.length) {
    return body.errors.map((e) => `${(e.loc || []).slice(-1)[0] || ''}: ${e.msg}`).join('; ');
  }
  return body.detail || `Request failed (${status}).`;
}

export async function request(path, { method = 'GET', json, form, signal, ifMatch } = {}) {
  const headers = { Accept: 'application/json' };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (ifMatch) headers['If-Match'] = ifMatch;
  let body;
  if (form) body = new URLSearchParams(form);
  else if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'Cannot reach Marquee: check your connection and try again.');
  }
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch { /* not JSON */ }
    if (response.status === 401 && session.token) {
      session.clear();
      window.dispatchEvent(new Event('marquee:signedout'));
    }
    throw new ApiError(response.status, data.code, message(response.status, data));
  }
  const data = response.status === 204 ? null : await response.json();
  return { data, etag: response.headers.get('ETag') };
}

export async function api(path, options) { return (await request(path, options)).data; }

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
