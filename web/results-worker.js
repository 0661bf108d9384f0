// The results of one search, off the page's thread: this worker fetches the search document
// (which can hold 10^5 indicators and their hits), reads the event stream while the search
// runs, keeps the hits in the column store of model.js, and answers the page's questions: a
// window of rows in a filtered, sorted order with counts per filter value, or the filtered rows
// as CSV. The page never parses, sorts or filters the whole result itself, so it never freezes.
//
// Page -> worker: {type: 'open', id, key}
//                 {type: 'query', seq, filters, sort: {key, dir}, from, to}
//                 {type: 'csv', seq, filters, sort, limit}
//                 {type: 'close'}
// Worker -> page: {type: 'state', state}            (model.snapshot(), throttled while running)
//                 {type: 'rows', seq, version, total, all, facets, from, rows}
//                 {type: 'csv', seq, text, rows, total}
//                 {type: 'error', phase: 'open'|'live'|'query', error: {status, message, name, code}}
//                 {type: 'live', ok: false, error}     (the stream failed: polling instead)

import * as api from './api.js';
import { ResultQuery, SearchModel } from './model.js';

let model = null;
let query = null;
let key = '';
let id = '';
const ctrl = new AbortController();
let stateTimer = 0;

const post = (msg) => self.postMessage(msg);
const errorOf = (err) => (err instanceof api.ApiError ? err.toJSON() : { status: 0, message: String(err && err.message ? err.message : err), name: '', code: 'internal' });

function postState() {
  clearTimeout(stateTimer);
  stateTimer = 0;
  if (model) post({ type: 'state', state: model.snapshot() });
}

function scheduleState() {
  if (!stateTimer) stateTimer = setTimeout(postState, 120);
}

const path = () => `/searches/${encodeURIComponent(id)}`;

async function open(msg) {
  id = String(msg.id);
  key = String(msg.key);
  const opts = { key, signal: ctrl.signal };
  let doc;
  let members = [];
  try {
    [doc, members] = await Promise.all([
      api.getJSON(path(), opts),
      // the members' kinds of data give each hit its class; without them every hit is `threat`
      api.getJSON('/members', opts).catch(() => []),
    ]);
  } catch (err) {
    if (!ctrl.signal.aborted) post({ type: 'error', phase: 'open', error: errorOf(err) });
    return;
  }
  model = new SearchModel(doc, members);
  query = new ResultQuery(model);
  postState();
  if (model.status === 'running') live();
}

async function live() {
  let sawDone = false;
  const stream = new AbortController();
  ctrl.signal.addEventListener('abort', () => stream.abort());
  try {
    await api.streamEvents(id, (type, data) => {
      const ch = model.apply(type, data);
      if (ch.progress || ch.members.length || ch.hits) scheduleState();
      if (ch.done) {
        sawDone = true;
        stream.abort();  // the stream may stay open; the document has the final word
      }
    }, stream.signal, key);
  } catch (err) {
    if (ctrl.signal.aborted) return;
    if (!sawDone) post({ type: 'live', ok: false, error: errorOf(err) });
  }
  if (ctrl.signal.aborted) return;
  await settle();
}

// Reads the document until the search is no longer running.
async function settle() {
  for (let attempt = 0; !ctrl.signal.aborted; attempt += 1) {
    try {
      const doc = await api.getJSON(path(), { key, signal: ctrl.signal });
      if (ctrl.signal.aborted) return;
      model.load(doc);
      postState();
      if (model.status !== 'running') return;
    } catch (err) {
      if (ctrl.signal.aborted) return;
      post({ type: 'error', phase: 'live', error: errorOf(err) });
    }
    await sleep(Math.min(1000, 200 + attempt * 100));
  }
}

function sleep(ms) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    ctrl.signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

self.onmessage = (e) => {
  const msg = e.data || {};
  try {
    if (msg.type === 'open') {
      open(msg);
    } else if (msg.type === 'close') {
      ctrl.abort();
      self.close();
    } else if (!query) {
      // nothing loaded yet: the page asks again on the first state
    } else if (msg.type === 'query') {
      const res = query.run(msg.filters, msg.sort);
      post({
        type: 'rows', seq: msg.seq, version: model.store.version, total: res.total, all: res.all,
        facets: res.facets, from: msg.from, rows: query.window(res, msg.from, msg.to),
      });
    } else if (msg.type === 'csv') {
      const res = query.run(msg.filters, msg.sort);
      const { text, rows } = query.csv(res, msg.limit || Infinity);
      post({ type: 'csv', seq: msg.seq, text, rows, total: res.total });
    }
  } catch (err) {
    post({ type: 'error', phase: 'query', seq: msg.seq, error: errorOf(err) });
  }
};
