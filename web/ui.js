// Pieces every page uses: errors (the server's mapped to catalog entries by their `name`),
// notices, badges, and numbers, dates and durations formatted through the catalog.

import { ApiError } from './api.js';
import { h, clear, $, u } from './dom.js';
import { T, setText } from './i18n.js';

// The portal's error names (MISP's {"name"} is the message itself) -> catalog keys. A name
// that is not here is shown as the server wrote it.
export const SERVER_ERRORS = [
  ['Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.', 'err.api.authFailed'],
  ['You do not have permission to do that.', 'err.api.forbidden'],
  ['Invalid search', 'err.api.noSearch'],
  ['This search was stored without its request and cannot be re-run.', 'err.api.noRequest'],
  ['No member to ask: none is enabled or chosen.', 'err.api.noMember'],
  ['Too many searches are running; retry in a moment.', 'err.api.busy'],
  ['The search is still running.', 'err.api.stillRunning'],
  ['Not Found', 'err.api.notFound'],
  ['Method Not Allowed', 'err.api.method'],
  ['An Internal Error Has Occurred.', 'err.api.internal'],
  ['Too many open streams; retry later.', 'err.api.streams'],
  ['Request body too large.', 'err.api.tooLarge'],
  ['No indicators in the request.', 'err.api.noIndicators'],
  ["'since' is after 'until'.", 'err.api.sinceAfterUntil'],
  [/^Too many indicators \((\d+) > (\d+)\); split the search\.$/, 'err.api.tooMany', ['n', 'max']],
  [/^Unknown member '(.*)'\.$/, 'err.api.unknownMember', ['name']],
];

// {key, args} for an error, or {text} when only the server's own words can say it.
export function describeError(err) {
  if (err instanceof ApiError || (err && typeof err === 'object' && 'status' in err)) {
    if (err.code === 'network') return { key: 'err.network', args: { detail: err.message } };
    if (err.code === 'no-stream') return { key: 'err.noStream', args: {} };
    if (err.code === 'http') return { key: 'err.http', args: { status: err.status } };
    if (err.code === 'bad-answer') return { key: 'err.badAnswer', args: {} };
    const name = err.apiName || err.name || '';
    for (const [match, key, names] of SERVER_ERRORS) {
      if (typeof match === 'string') {
        if (match === name) return { key, args: {} };
      } else {
        const m = match.exec(name);
        if (m) return { key, args: Object.fromEntries(names.map((n, k) => [n, m[k + 1]])) };
      }
    }
    if (err.message) return { text: err.message };
  }
  if (err && err.key) return err;  // {key, args}: a message of our own
  return { text: String(err && err.message ? err.message : err) };
}

// The error's text as a node: from the catalog when it maps, else the server's words.
export function errorNode(err, spec = 'span.api-message') {
  const d = describeError(err);
  if (d.key) return setText(h(spec), d.key, d.args);
  return u(d.text, spec);
}

// A message of our own for errorBox / announce.
export const msg = (key, args = {}) => ({ key, args });

export function errorBox(err, whatKey, whatArgs = {}) {
  return h('div.error-box', { role: 'alert' },
    whatKey ? h('strong', { i18n: ['err.what', { what: T(whatKey, whatArgs) }] }) : null,
    errorNode(err),
    err && err.status ? h('span.muted', { i18n: ['err.status', { status: err.status }] }) : null);
}

// A notice in the corner (role=status). `message` is {key, args}, or an error.
export function announce(message, kind = 'info') {
  const box = $('#toast');
  const text = message && message.key ? setText(h('span'), message.key, message.args || {}) : errorNode(message, 'span');
  clear(box, text, h('button.link.toast-close', {
    type: 'button', i18nAttrs: { 'aria-label': ['common.dismiss'] }, on: { click: () => { box.hidden = true; } },
  }, h('span', { 'aria-hidden': 'true', i18n: ['common.close.x'] })));
  box.className = `toast toast-${kind}`;
  box.hidden = false;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => {
    box.hidden = true;
  }, kind === 'error' ? 12000 : 6000);
}

// ------------------------------------------------------------------ badges

export function tlpBadge(tlp) {
  const v = String(tlp).toLowerCase();
  return h('span.tlp', { dataset: { tlp: v }, i18n: ['tlp.badge', { tlp: v.toUpperCase() }] });
}

const STATUS_ICON = {
  queued: '·', running: '↻', searching: '↻', uploading: '↑', done: '✓', failed: '✗', timed_out: '◔', skipped: '⊘', interrupted: '✗',
};

export function statusBadge(status) {
  const s = String(status || 'queued');
  return h('span.badge', { class: `st-${s}` },
    h('span', { 'aria-hidden': 'true', i18n: ['icon.status', { icon: STATUS_ICON[s] || '?' }] }),
    T('status.label', { status: s }));
}

export function relationBadge(rel) {
  const r = String(rel ?? '');
  return h('span.badge.rel', { dataset: { rel: r }, i18n: ['relation.name', { rel: r }] });
}

export function classBadge(cls) {
  const c = String(cls || '');
  return h('span.badge.cls', { dataset: { cls: c }, i18n: ['class.name', { cls: c }] });
}

// ------------------------------------------------------------------ numbers, dates, durations

export const num = (n, tag = 'span') => T('fmt.number', { n: Number(n) || 0 }, tag);

// A time from unix seconds: the date and time in the UI language with "3 days ago" after it.
export function when(unix, { relative = true } = {}) {
  if (unix === null || unix === undefined || unix === '') return null;
  const el = h('time', {
    datetime: new Date(Number(unix) * 1000).toISOString(),
    i18n: [relative ? 'fmt.datetimeAgo' : 'fmt.datetime', { t: Number(unix) }],
  });
  return el;
}

// A day of member data ("2026-03-01"), in the UI language.
export function day(text) {
  if (!text) return null;
  const s = String(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return u(s);
  return h('time', { datetime: s.slice(0, 10), i18n: ['fmt.day', { d: s.slice(0, 10) }] });
}

export function duration(ms) {
  if (ms === null || ms === undefined || ms === '') return null;
  const n = Number(ms);
  if (!Number.isFinite(n)) return null;
  if (n < 1) return T('fmt.msUnder1');
  if (n < 1000) return T('fmt.ms', { ms: Math.round(n) });
  return T('fmt.s', { s: Math.round(n / (n < 10000 ? 10 : 100)) / (n < 10000 ? 100 : 10) });
}
