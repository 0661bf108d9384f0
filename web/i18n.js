// Languages of the UI. Every visible string, title, tooltip, error, export label and date comes
// from a message catalog (i18n/en.json, i18n/ja.json): flat objects of key -> message. A message
// is text with ICU-like arguments (never assembled from fragments, since word order differs):
//
//   {name}                                  the argument as text (a Node when the caller passes one)
//   {n, number}  {n, number, integer}       Intl.NumberFormat in the UI language
//   {t, date, short|medium|long}            Intl date of a Date / unix seconds, local time zone
//   {t, time, short}  {t, datetime}         time; date and time with the zone's short name
//   {d, day}                                a calendar date ("2026-03-01" data) shown in UTC
//   {t, ago}                                Intl.RelativeTimeFormat: "3 days ago", "3日前"
//   {n, plural, =0 {...} one {...} other {...}}   Intl.PluralRules; # is the formatted n
//   {x, select, a {...} b {...} other {...}}
//
// Braces are syntax only; an apostrophe is plain text. Elements whose text comes from a message
// carry data-i18n="key" (attributes: data-i18n-title="key" and so on), and keep their arguments,
// so switching the language re-renders them in place (retranslate). Text that is user or server
// data (indicator values, member names, labels) sits in elements marked data-user; the browser
// test checks that every visible text is one or the other.
//
// A page's strings go in both catalogs under one prefix (the log sifting page's: "sift.form.…");
// scope(prefix) gives a t() that prefixes its keys.

export const LANGS = ['ja', 'en'];
export const DEFAULT_LANG = 'en';
const STORAGE = 'iocgrid.lang';

let lang = DEFAULT_LANG;
const catalogs = {};    // lang -> {key: message}
const compiled = new Map();  // lang + '\0' + key -> AST
const fmtCache = new Map();
const listeners = new Set();
// element -> {key, args} for its text; element -> {attr: {key, args}} for attributes
const textArgs = new WeakMap();
const attrArgs = new WeakMap();

export function currentLang() {
  return lang;
}

// The language to show: the one chosen with the header switch (localStorage), else the first
// of the browser's preferred languages that the UI has, else English.
export function preferredLang(stored = readStored(), languages = browserLanguages()) {
  if (LANGS.includes(stored)) return stored;
  for (const l of languages) {
    const base = String(l || '').toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return DEFAULT_LANG;
}

function readStored() {
  try {
    return localStorage.getItem(STORAGE) || '';
  } catch {
    return '';
  }
}

function browserLanguages() {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
}

// Installs a catalog (tests and the loader).
export function addCatalog(code, messages) {
  catalogs[code] = messages;
  for (const k of [...compiled.keys()]) if (k.startsWith(`${code}\0`)) compiled.delete(k);
}

export function hasCatalog(code) {
  return Boolean(catalogs[code]);
}

async function loadCatalog(code) {
  if (catalogs[code]) return;
  const res = await fetch(`i18n/${code}.json`, { cache: 'no-cache', credentials: 'omit' });
  if (!res.ok) throw new Error(`i18n/${code}.json: HTTP ${res.status}`);
  addCatalog(code, await res.json());
}

// Loads the catalogs and shows `code` (remembered when `remember`); re-renders every marked
// element and tells the listeners (views redraw what they draw from data).
export async function setLang(code, { remember = false } = {}) {
  if (!LANGS.includes(code)) code = DEFAULT_LANG;
  await Promise.all([loadCatalog(DEFAULT_LANG), loadCatalog(code)]);
  lang = code;
  fmtCache.clear();
  if (remember) {
    try {
      localStorage.setItem(STORAGE, code);
    } catch {
      /* storage unavailable: the choice lasts for this page */
    }
  }
  if (typeof document !== 'undefined') {
    document.documentElement.lang = code;
    retranslate(document);
  }
  for (const fn of listeners) fn(code);
}

// Only for tests outside a browser: switch without fetching.
export function useLang(code) {
  lang = code;
  fmtCache.clear();
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalogs[lang] || {}, key) ||
    Object.prototype.hasOwnProperty.call(catalogs[DEFAULT_LANG] || {}, key);
}

function message(key) {
  const cat = catalogs[lang] || {};
  if (Object.prototype.hasOwnProperty.call(cat, key)) return [lang, cat[key]];
  const en = catalogs[DEFAULT_LANG] || {};
  if (Object.prototype.hasOwnProperty.call(en, key)) return [DEFAULT_LANG, en[key]];
  return [lang, null];
}

function ast(key) {
  const [code, text] = message(key);
  if (text === null) return null;
  const ck = `${code}\0${key}`;
  let a = compiled.get(ck);
  if (!a) {
    a = parseMessage(text);
    compiled.set(ck, a);
  }
  return a;
}

// The message as a string. A missing key shows the key itself (the catalog test catches it).
export function t(key, args = {}) {
  const a = ast(key);
  if (!a) return key;
  return render(a, args, null).map((p) => (typeof p === 'string' ? p : p.textContent)).join('');
}

// The message as nodes: arguments that are Nodes (a <strong>, a link) stay Nodes.
export function tNodes(key, args = {}) {
  const a = ast(key);
  if (!a) return [key];
  const parts = render(a, args, null);
  const out = [];
  for (const p of parts) {
    if (typeof p === 'string' && typeof out[out.length - 1] === 'string') out[out.length - 1] += p;
    else out.push(p);
  }
  return out.map((p) => (typeof p === 'string' ? document.createTextNode(p) : p));
}

// A t() whose keys start with `prefix.`.
export function scope(prefix) {
  return (key, args) => t(`${prefix}.${key}`, args);
}

// ------------------------------------------------------------------ the DOM side

// Sets el's content to the message and marks it; returns el.
export function setText(el, key, args = {}) {
  textArgs.set(el, { key, args });
  el.setAttribute('data-i18n', key);
  el.replaceChildren(...tNodes(key, args));
  return el;
}

// Sets an attribute (title, aria-label, placeholder, ...) to the message and marks it.
export function setAttr(el, attr, key, args = {}) {
  let m = attrArgs.get(el);
  if (!m) {
    m = {};
    attrArgs.set(el, m);
  }
  m[attr] = { key, args };
  el.setAttribute(`data-i18n-${attr}`, key);
  el.setAttribute(attr, t(key, args));
  return el;
}

// <span data-i18n=key> with the message (or another tag: T('key', args, 'strong')).
export function T(key, args = {}, tag = 'span') {
  return setText(document.createElement(tag), key, args);
}

// Marks el as user or server data (never from the catalog).
export function markUser(el) {
  el.setAttribute('data-user', '');
  return el;
}

// Re-renders every marked element under root in the current language. Elements marked in the
// static HTML (no arguments) are rendered too.
export function retranslate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const m = textArgs.get(el);
    const key = el.getAttribute('data-i18n');
    setText(el, key, m && m.key === key ? m.args : {});
  }
  const attrs = root.querySelectorAll('*');
  for (const el of attrs) {
    for (const a of el.getAttributeNames()) {
      if (!a.startsWith('data-i18n-')) continue;
      const attr = a.slice('data-i18n-'.length);
      const m = (attrArgs.get(el) || {})[attr];
      const key = el.getAttribute(a);
      setAttr(el, attr, key, m && m.key === key ? m.args : {});
    }
  }
  if (root.title !== undefined && root.documentElement) root.documentElement.lang = lang;
}

// ------------------------------------------------------------------ formatting

// One Intl formatter per language and options, made once.
function cached(Ctor, options) {
  const k = `${Ctor.name}${lang}${JSON.stringify(options)}`;
  let f = fmtCache.get(k);
  if (!f) {
    f = new Ctor(lang, options);
    fmtCache.set(k, f);
  }
  return f;
}
const nf = (options) => cached(Intl.NumberFormat, options);
const df = (options) => cached(Intl.DateTimeFormat, options);
const pluralRules = () => cached(Intl.PluralRules, {});

function toDate(v) {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v * 1000);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)) {
    return new Date(v.length === 10 ? `${v}T00:00:00Z` : v);
  }
  return new Date(NaN);
}

const DATE_STYLES = {
  short: { year: 'numeric', month: '2-digit', day: '2-digit' },
  medium: { year: 'numeric', month: 'short', day: 'numeric' },
  long: { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' },
};

// The unit and value for a relative time ("3 days ago"): the largest unit that is at least 1.
export function relativeParts(seconds) {
  const abs = Math.abs(seconds);
  const units = [
    ['year', 365 * 86400], ['month', 30 * 86400], ['week', 7 * 86400], ['day', 86400],
    ['hour', 3600], ['minute', 60],
  ];
  for (const [unit, size] of units) {
    if (abs >= size) return [Math.round(seconds / size), unit];
  }
  return [Math.round(seconds), 'second'];
}

let nowForTests = null;
export function setNowForTests(ms) {
  nowForTests = ms;
}

function formatArg(value, type, style) {
  if (value === undefined || value === null) return '';
  switch (type) {
    case 'number': {
      const n = Number(value);
      if (!Number.isFinite(n)) return String(value);
      if (style === 'integer') return nf({ maximumFractionDigits: 0 }).format(n);
      if (style === 'percent') return nf({ style: 'percent', maximumFractionDigits: 1 }).format(n);
      return nf({ maximumFractionDigits: 2 }).format(n);
    }
    case 'date':
    case 'day': {
      const d = toDate(value);
      if (Number.isNaN(d.getTime())) return String(value);
      const opts = { ...(DATE_STYLES[style] || DATE_STYLES.medium) };
      if (type === 'day') opts.timeZone = 'UTC';
      return df(opts).format(d);
    }
    case 'time': {
      const d = toDate(value);
      if (Number.isNaN(d.getTime())) return String(value);
      return df({ hour: '2-digit', minute: '2-digit' }).format(d);
    }
    case 'datetime': {
      const d = toDate(value);
      if (Number.isNaN(d.getTime())) return String(value);
      return df({
        year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
        timeZoneName: 'short',
      }).format(d);
    }
    case 'ago': {
      const d = toDate(value);
      if (Number.isNaN(d.getTime())) return String(value);
      const now = nowForTests ?? Date.now();
      const [n, unit] = relativeParts((d.getTime() - now) / 1000);
      return cached(Intl.RelativeTimeFormat, { numeric: 'auto' }).format(n, unit);
    }
    default:
      return value;
  }
}

function render(nodes, args, pluralValue) {
  const out = [];
  for (const n of nodes) {
    if (typeof n === 'string') {
      out.push(n);
    } else if (n.kind === 'hash') {
      out.push(pluralValue === null ? '#' : formatArg(pluralValue, 'number'));
    } else if (n.kind === 'arg') {
      const v = args[n.name];
      if (n.type) {
        out.push(String(formatArg(v, n.type, n.style)));
      } else if (typeof Node !== 'undefined' && v instanceof Node) {
        out.push(v);
      } else {
        out.push(v === undefined || v === null ? '' : String(v));
      }
    } else if (n.kind === 'plural') {
      const v = Number(args[n.name]);
      let branch = n.options[`=${v}`];
      if (!branch) branch = n.options[Number.isFinite(v) ? pluralRules().select(v) : 'other'];
      if (!branch) branch = n.options.other || [];
      out.push(...render(branch, args, v));
    } else if (n.kind === 'select') {
      const v = String(args[n.name]);
      const branch = Object.prototype.hasOwnProperty.call(n.options, v) ? n.options[v] : (n.options.other || []);
      out.push(...render(branch, args, pluralValue));
    }
  }
  return out;
}

// ------------------------------------------------------------------ the message parser

// Parses a message into [text | {kind:'arg'|'plural'|'select'|'hash', ...}]. Throws a
// SyntaxError naming the offset for malformed messages (the catalog test parses every one).
export function parseMessage(text) {
  let pos = 0;
  function nodesUntil(stopAtBrace, inPlural) {
    const out = [];
    let buf = '';
    while (pos < text.length) {
      const c = text[pos];
      if (c === '{') {
        if (buf) out.push(buf);
        buf = '';
        out.push(argument());
      } else if (c === '}') {
        if (!stopAtBrace) throw new SyntaxError(`unmatched } at ${pos}`);
        break;
      } else if (c === '#' && inPlural) {
        if (buf) out.push(buf);
        buf = '';
        out.push({ kind: 'hash' });
        pos += 1;
      } else {
        buf += c;
        pos += 1;
      }
    }
    if (buf) out.push(buf);
    return out;
  }
  function skipSpace() {
    while (pos < text.length && /\s/.test(text[pos])) pos += 1;
  }
  function word() {
    skipSpace();
    const m = /^[A-Za-z0-9_=.-]+/.exec(text.slice(pos));
    if (!m) throw new SyntaxError(`expected a name at ${pos}`);
    pos += m[0].length;
    skipSpace();
    return m[0];
  }
  function argument() {
    pos += 1;  // {
    const name = word();
    if (text[pos] === '}') {
      pos += 1;
      return { kind: 'arg', name };
    }
    if (text[pos] !== ',') throw new SyntaxError(`expected , or } at ${pos}`);
    pos += 1;
    const type = word();
    if (type === 'plural' || type === 'select') {
      if (text[pos] !== ',') throw new SyntaxError(`expected , after ${type} at ${pos}`);
      pos += 1;
      const options = {};
      skipSpace();
      while (text[pos] !== '}') {
        const sel = word();
        if (text[pos] !== '{') throw new SyntaxError(`expected { after ${sel} at ${pos}`);
        pos += 1;
        options[sel] = nodesUntil(true, type === 'plural');
        if (text[pos] !== '}') throw new SyntaxError(`unterminated option ${sel}`);
        pos += 1;
        skipSpace();
        if (pos >= text.length) throw new SyntaxError('unterminated argument');
      }
      pos += 1;
      if (!options.other) throw new SyntaxError(`${type} of ${name} has no other branch`);
      return { kind: type, name, options };
    }
    if (!['number', 'date', 'time', 'datetime', 'day', 'ago'].includes(type)) {
      throw new SyntaxError(`unknown argument type ${type}`);
    }
    let style = '';
    if (text[pos] === ',') {
      pos += 1;
      style = word();
    }
    if (text[pos] !== '}') throw new SyntaxError(`expected } at ${pos}`);
    pos += 1;
    return { kind: 'arg', name, type, style };
  }
  const out = nodesUntil(false, false);
  return out;
}

// The argument names a message uses (the catalog test compares them across languages).
export function argumentNames(text) {
  const names = new Set();
  const walk = (nodes) => {
    for (const n of nodes) {
      if (typeof n === 'string' || n.kind === 'hash') continue;
      names.add(n.name);
      if (n.options) for (const b of Object.values(n.options)) walk(b);
    }
  };
  walk(parseMessage(text));
  return names;
}

// The literal text pieces of a message, every branch included (the browser test checks that
// a marked element's own text is made of these).
export function literalPieces(text) {
  const out = [];
  const walk = (nodes) => {
    for (const n of nodes) {
      if (typeof n === 'string') out.push(n);
      else if (n.options) for (const b of Object.values(n.options)) walk(b);
    }
  };
  walk(parseMessage(text));
  return out;
}
