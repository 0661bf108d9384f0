// The portal REST API (docs/portal-api.md). The API key lives in sessionStorage only (gone when
// the tab closes, never in a URL) and goes in the Authorization header of every request.
// No DOM and no catalog here at module level: the results worker imports this module too. Errors
// carry the server's {name, message}; the UI maps them to catalog entries (ui.js).

const KEY_STORAGE = 'iocgrid.portal.key';
export const API = '/api/v1';

export function getKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || '';
  } catch {
    return '';
  }
}

export function setKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function forgetKey() {
  try {
    sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    /* storage unavailable: nothing to forget */
  }
}

// An API failure: status is the HTTP status (0 when the portal could not be reached) and
// message the API's {"message"} text, or a plain description when the body had none; apiName
// is the API's {"name"}; code names a failure the UI itself detected ('network', 'no-stream',
// 'bad-answer'), with message the browser's own words for it.
export class ApiError extends Error {
  constructor(status, message, name = '', code = '') {
    super(message);
    this.status = status;
    this.apiName = name;
    this.code = code;
  }

  toJSON() {
    return { status: this.status, message: this.message, name: this.apiName, code: this.code };
  }

  static from(o) {
    return new ApiError(o.status || 0, o.message || '', o.name || '', o.code || '');
  }
}

// Listeners told when the key is refused (403 from /me or on any call) so the app can ask again.
const authListeners = new Set();
export function onAuthFailure(fn) {
  authListeners.add(fn);
}

function headers(key, extra = {}) {
  return { Authorization: key, Accept: 'application/json', ...extra };
}

async function errorFrom(res) {
  let message = '';
  let name = '';
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      const body = JSON.parse(text);
      if (body && typeof body === 'object') {
        message = typeof body.message === 'string' ? body.message : '';
        name = typeof body.name === 'string' ? body.name : '';
      }
    } catch {
      /* not JSON: fall back to the status line below */
    }
  }
  if (!message) return new ApiError(res.status, `${res.status} ${res.statusText || ''}`.trim(), '', 'http');
  return new ApiError(res.status, message, name);
}

// fetch() with the key; throws ApiError on network errors and non-2xx answers.
export async function request(path, { method = 'GET', body, key = getKey(), signal, accept } = {}) {
  const init = { method, headers: headers(key), signal, cache: 'no-store', credentials: 'omit' };
  if (accept) init.headers.Accept = accept;
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let res;
  try {
    res = await fetch(API + path, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, e && e.message ? e.message : String(e), '', 'network');
  }
  if (!res.ok) {
    const err = await errorFrom(res);
    if (res.status === 403 && path === '/me') for (const fn of authListeners) fn(err);
    throw err;
  }
  return res;
}

export async function getJSON(path, opts) {
  const res = await request(path, opts);
  return res.json();
}

export const me = (key) => getJSON('/me', { key });
export const members = () => getJSON('/members');
export const checkMembers = () => getJSON('/members/check', { method: 'POST' });
export const listSearches = () => getJSON('/searches');
export const getSearch = (id, signal) => getJSON(`/searches/${encodeURIComponent(id)}`, { signal });
export const startSearch = (body) => getJSON('/searches', { method: 'POST', body });
// Starts a new search with the stored request of search `id` (after an interruption, say).
export const rerunSearch = (id) =>
  getJSON(`/searches/${encodeURIComponent(id)}/rerun`, { method: 'POST' });
export const deleteSearch = (id) =>
  getJSON(`/searches/${encodeURIComponent(id)}`, { method: 'DELETE' });

// Sightings back to members (POST /searches/{id}/sightings): body {type, hits, source?}.
export const sendSightings = (id, body) =>
  getJSON(`/searches/${encodeURIComponent(id)}/sightings`, { method: 'POST', body });
// One value's reputation across the alliance.
export const reputation = (value, type) =>
  getJSON(`/indicators?value=${encodeURIComponent(value)}${type ? `&type=${encodeURIComponent(type)}` : ''}`);
export const listWatchlists = () => getJSON('/watchlists');
export const createWatchlist = (body) => getJSON('/watchlists', { method: 'POST', body });
export const getWatchlist = (id) => getJSON(`/watchlists/${encodeURIComponent(id)}`);
export const watchlistRuns = (id) => getJSON(`/watchlists/${encodeURIComponent(id)}/runs?limit=20`);
export const deleteWatchlist = (id) =>
  getJSON(`/watchlists/${encodeURIComponent(id)}`, { method: 'DELETE' });

// The alliance's trends (docs/trends.md): kind is sectors, scanners, rising or actors; params
// ({window, bucket, min_orgs, limit}) go in the query as given, for the API to judge.
export const trends = (kind, params = {}, signal) =>
  getJSON(`/trends/${encodeURIComponent(kind)}?${new URLSearchParams(params)}`, { signal });

export const listSifts = () => getJSON('/sifts');
export const getSift = (id, signal) =>
  getJSON(`/sifts/${encodeURIComponent(id)}?observables=false`, { signal });

// POST /sifts with the file itself as the body (streamed by the browser), through
// XMLHttpRequest for its upload progress: onProgress(sentBytes, totalBytes).
export function uploadSift(file, query, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${API}/sifts${query ? `?${query}` : ''}`);
    xhr.setRequestHeader('Authorization', getKey());
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', /\.gz$/i.test(file.name) ? 'application/gzip' : 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError(0, 'upload cut', '', 'network'));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status === 201 && body && body.id) return resolve(body);
      if (!body || typeof body.message !== 'string') return reject(new ApiError(xhr.status, `${xhr.status} ${xhr.statusText}`.trim(), '', 'http'));
      return reject(new ApiError(xhr.status, body.message, typeof body.name === 'string' ? body.name : ''));
    };
    xhr.send(file);
  });
}

// Every export format of GET /searches/{id}/export (labels: catalog keys export.<format>).
export const EXPORTS = {
  csv: { ext: 'csv', mime: 'text/csv' },
  json: { ext: 'json', mime: 'application/json' },
  misp: { ext: 'misp.json', mime: 'application/json' },
  stix: { ext: 'stix.json', mime: 'application/json' },
};

// Downloads an export through fetch + Blob (a plain link could not carry the key header).
export async function downloadExport(id, format) {
  const res = await request(
    `/searches/${encodeURIComponent(id)}/export?format=${encodeURIComponent(format)}`,
    { accept: '*/*' },
  );
  const blob = await res.blob();
  const spec = EXPORTS[format] || { ext: format };
  let filename = `iocgrid-search-${id}.${spec.ext}`;
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  if (m) {
    const name = decodeURIComponent(m[1]).replace(/[/\\]/g, '_').trim();
    if (name) filename = name;
  }
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { filename, bytes: blob.size };
}

// Reads GET /searches/{id}/events as server-sent events with fetch() + ReadableStream
// (EventSource cannot send the Authorization header). Calls onEvent(type, data) for each event
// (data parsed as JSON when it parses, else the raw string). Resolves when the stream ends.
export async function streamEvents(id, onEvent, signal, key = getKey()) {
  const res = await request(`/searches/${encodeURIComponent(id)}/events`, {
    signal,
    key,
    accept: 'text/event-stream',
  });
  if (!res.body) throw new ApiError(0, 'ReadableStream', '', 'no-stream');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser(onEvent);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(value);
    }
    parser.end();
  } finally {
    reader.releaseLock();
  }
}

// The text/event-stream format (WHATWG HTML §9.2.6): lines end in \n, \r\n or \r; "field: value";
// a blank line dispatches; lines starting with ":" are comments; data lines are joined with \n.
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buf = '';
    this.type = '';
    this.data = [];
    this.lastId = '';
  }
  push(chunk) {
    this.buf += chunk;
    let start = 0;
    for (;;) {
      const m = /\r\n|\r|\n/g;
      m.lastIndex = start;
      const found = m.exec(this.buf);
      if (!found) break;
      // a lone \r at the very end may be the first half of \r\n: wait for more
      if (found[0] === '\r' && found.index === this.buf.length - 1) break;
      this.line(this.buf.slice(start, found.index));
      start = found.index + found[0].length;
    }
    this.buf = this.buf.slice(start);
  }
  end() {
    if (this.buf) this.line(this.buf);
    this.buf = '';
    this.dispatch();
  }
  line(line) {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id') this.lastId = value;
    return undefined;
  }
  dispatch() {
    if (this.data.length === 0) {
      this.type = '';
      return;
    }
    const raw = this.data.join('\n');
    const type = this.type || 'message';
    this.type = '';
    this.data = [];
    let data = raw;
    try {
      data = JSON.parse(raw);
    } catch {
      /* keep the string */
    }
    this.onEvent(type, data);
  }
}
