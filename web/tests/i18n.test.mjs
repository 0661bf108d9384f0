// The message catalogs (web/i18n/en.json, ja.json) and the formatter, without a browser: every
// key in both languages, every message well formed with the same arguments in both, every key
// the code uses present and every key present used, the server's error names still the ones the
// portal sends, and the ICU-like formatting (plurals, dates, relative times) per language.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  addCatalog, argumentNames, literalPieces, parseMessage, preferredLang, relativeParts, setNowForTests, t, useLang,
} from '../i18n.js';
import { SERVER_ERRORS, describeError } from '../ui.js';
import { ApiError } from '../api.js';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPO = path.resolve(WEB, '..');
const load = (code) => JSON.parse(fs.readFileSync(path.join(WEB, 'i18n', `${code}.json`), 'utf8'));
const en = load('en');
const ja = load('ja');
addCatalog('en', en);
addCatalog('ja', ja);

// The UI's own modules (not the tests, not node_modules).
const sources = fs.readdirSync(WEB).filter((f) => f.endsWith('.js'))
  .map((f) => [f, fs.readFileSync(path.join(WEB, f), 'utf8')]);
const html = fs.readFileSync(path.join(WEB, 'index.html'), 'utf8');

test('both catalogs have every key', () => {
  const missingInJa = Object.keys(en).filter((k) => !(k in ja));
  const missingInEn = Object.keys(ja).filter((k) => !(k in en));
  assert.deepEqual(missingInJa, [], `keys missing in ja.json: ${missingInJa.join(', ')}`);
  assert.deepEqual(missingInEn, [], `keys missing in en.json: ${missingInEn.join(', ')}`);
  for (const [code, cat] of [['en', en], ['ja', ja]]) {
    for (const [k, v] of Object.entries(cat)) {
      assert.equal(typeof v, 'string', `${code} ${k} is a string`);
      assert.ok(v.length > 0, `${code} ${k} is not empty`);
    }
  }
});

test('every message parses and uses the same arguments in both languages', () => {
  for (const k of Object.keys(en)) {
    let a;
    let b;
    assert.doesNotThrow(() => { a = argumentNames(en[k]); }, `en ${k}: ${en[k]}`);
    assert.doesNotThrow(() => { b = argumentNames(ja[k]); }, `ja ${k}: ${ja[k]}`);
    assert.deepEqual([...b].sort(), [...a].sort(), `arguments of ${k}`);
  }
});

test('the Japanese catalog is Japanese: most messages with letters hold kana or kanji', () => {
  const words = Object.entries(ja).filter(([, v]) => /[A-Za-z]{3,}/.test(literalPieces(v).join('')) || /[\u3040-\u30ff\u4e00-\u9fff]/.test(v));
  const japanese = words.filter(([, v]) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(v));
  assert.ok(japanese.length / words.length > 0.9, `${japanese.length} of ${words.length}`);
  // and it is not the English text copied over (example data and names excepted)
  const allowed = new Set(['form.placeholder.csv', 'form.placeholder.list', 'app.brand', 'lang.en', 'lang.ja', 'key.enter', 'key.ctrl']);
  const same = Object.keys(en).filter((k) => en[k] === ja[k] && /[a-z]{4,}/.test(literalPieces(en[k]).join('')));
  assert.deepEqual(same.filter((k) => !allowed.has(k)), [], 'untranslated');
});

test('malformed messages are rejected', () => {
  for (const bad of ['{', '}', '{n, plural, one {x}}', '{n, frobnicate}', '{n, plural, other {x}', '{ }']) {
    assert.throws(() => parseMessage(bad), SyntaxError, bad);
  }
});

// Keys the code names: quoted dotted strings in our namespaces (not h() element specs), and the
// prefixes of keys built from a template (`relation.help.${r}`).
const PREFIXES = new Set(Object.keys(en).map((k) => k.split('.')[0]));
const missingIn = [];
function keysInCode() {
  const exact = new Set();
  const prefixes = new Set();
  for (const [f, src] of sources) {
    for (const m of src.matchAll(/(h\()?['"]([a-z][A-Za-z0-9]*(?:\.[A-Za-z0-9_-]+)+)['"]/g)) {
      if (m[1]) continue;  // h('form.card.signin'): an element spec
      const key = m[2];
      if (!PREFIXES.has(key.split('.')[0])) continue;
      if (/\.(js|json|mjs|css|html)$/.test(key)) continue;
      exact.add(key);
      if (!(key in en) || !(key in ja)) missingIn.push(`${key} (${f})`);
    }
    for (const m of src.matchAll(/`([a-z][A-Za-z0-9.]*\.)\$\{/g)) prefixes.add(m[1]);
    // a page that reads its keys through scope('sift') uses every sift.* key
    const code = src.replace(/^\s*\/\/.*$/gm, '');  // not the comments that explain scope()
    for (const m of code.matchAll(/\bscope\(['"]([a-z][A-Za-z0-9]*)['"]\)/g)) prefixes.add(`${m[1]}.`);
  }
  for (const m of html.matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)) exact.add(m[1]);
  return { exact, prefixes };
}

test('every key the code uses is in the catalogs', () => {
  const { exact, prefixes } = keysInCode();
  const missing = [...exact].filter((k) => !(k in en) || !(k in ja));
  assert.deepEqual(missing, [], `missing: ${missingIn.join(', ')}`);
  for (const p of prefixes) assert.ok(Object.keys(en).some((k) => k.startsWith(p)), `no key starts with ${p}`);
  // the SERVER_ERRORS table's keys
  for (const [, key] of SERVER_ERRORS) assert.ok(key in en && key in ja, key);
});

test('every key in the catalogs is used', () => {
  const { exact, prefixes } = keysInCode();
  const errorKeys = new Set(SERVER_ERRORS.map(([, k]) => k));
  const unused = Object.keys(en).filter((k) => !exact.has(k) && !errorKeys.has(k) &&
    ![...prefixes].some((p) => k.startsWith(p)));
  assert.deepEqual(unused, [], `unused keys: ${unused.join(', ')}`);
});

test('the server error names mapped to the catalog are the ones the portal sends', () => {
  const cc = [];
  for (const dir of ['src/portal', 'src/portal/internal', 'src/net']) {
    for (const f of fs.readdirSync(path.join(REPO, dir))) {
      if (f.endsWith('.cc') || f.endsWith('.h')) cc.push(fs.readFileSync(path.join(REPO, dir, f), 'utf8'));
    }
  }
  // C++ string literals, adjacent ones joined ("a " "b")
  const text = cc.join('\n').replace(/"\s*\n\s*"/g, '');
  for (const [name] of SERVER_ERRORS) {
    if (typeof name !== 'string') continue;
    assert.ok(text.includes(JSON.stringify(name).slice(1, -1)), `the portal no longer sends "${name}"`);
  }
  for (const needle of ['Too many indicators (', "Unknown member '"]) assert.ok(text.includes(needle), needle);
});

test('server errors map by name, with the server text as the fallback', () => {
  const d = describeError(new ApiError(404, 'Invalid search', 'Invalid search'));
  assert.deepEqual(d, { key: 'err.api.noSearch', args: {} });
  assert.deepEqual(describeError(new ApiError(413, 'x', 'Too many indicators (100001 > 100000); split the search.')),
    { key: 'err.api.tooMany', args: { n: '100001', max: '100000' } });
  assert.deepEqual(describeError(new ApiError(400, "'since' must be ...", "'since' must be ...")), { text: "'since' must be ..." });
  assert.deepEqual(describeError(new ApiError(0, 'Failed to fetch', '', 'network')), { key: 'err.network', args: { detail: 'Failed to fetch' } });
  useLang('ja');
  assert.equal(t('err.api.tooMany', { n: 100001, max: 100000 }), '指標が多すぎます（100,001 件、上限は 100,000 件）。検索を分割してください。');
  useLang('en');
});

test('plurals, selects and numbers per language', () => {
  useLang('en');
  assert.equal(t('form.count.list', { n: 1 }), '1 indicator');
  assert.equal(t('form.count.list', { n: 12345 }), '12,345 indicators');
  assert.equal(t('status.notAnswered', { n: 2 }), '· 2 members did not answer');
  assert.equal(t('relation.name', { rel: 'in-range' }), 'in-range');
  assert.equal(t('members.breaker.detail', { state: 'closed', failures: 0, s: 0 }), 'no failures lately');
  assert.equal(t('members.breaker.detail', { state: 'open', failures: 3, s: 12 }), 'skipped for 12 s more after 3 failures in a row');
  useLang('ja');
  assert.equal(t('form.count.list', { n: 12345 }), '指標 12,345 件');
  assert.equal(t('relation.name', { rel: 'in-range' }), '範囲内');
  assert.equal(t('relation.name', { rel: 'something-new' }), 'something-new');
  assert.equal(t('status.label', { status: 'timed_out' }), 'タイムアウト');
  assert.equal(t('members.breaker.detail', { state: 'open', failures: 3, s: 12 }), '3 回連続で失敗したため、あと 12 秒間は問い合わせません');
  useLang('en');
});

test('dates and relative times follow the language', () => {
  setNowForTests(Date.UTC(2026, 2, 4, 12, 0, 0));
  const threeDaysAgo = Date.UTC(2026, 2, 1, 12, 0, 0) / 1000;
  useLang('ja');
  assert.equal(t('fmt.day', { d: '2026-03-01' }), '2026/03/01');
  assert.match(t('fmt.datetimeAgo', { t: threeDaysAgo }), /^2026年3月1日 .*（3 ?日前）$/);
  useLang('en');
  assert.equal(t('fmt.day', { d: '2026-03-01' }), 'Mar 1, 2026');
  assert.match(t('fmt.datetimeAgo', { t: threeDaysAgo }), /^Mar 1, 2026.* \(3 days ago\)$/);
  setNowForTests(null);
  assert.deepEqual(relativeParts(-120), [-2, 'minute']);
  assert.deepEqual(relativeParts(-3 * 86400), [-3, 'day']);
  assert.deepEqual(relativeParts(-400 * 86400), [-1, 'year']);
});

test('the language: the remembered choice, else the browser, else English', () => {
  assert.equal(preferredLang('', ['ja-JP', 'en-US']), 'ja');
  assert.equal(preferredLang('', ['fr-FR', 'ja']), 'ja');
  assert.equal(preferredLang('', ['en-GB', 'ja']), 'en');
  assert.equal(preferredLang('en', ['ja-JP']), 'en');
  assert.equal(preferredLang('ja', ['en-US']), 'ja');
  assert.equal(preferredLang('xx', ['de']), 'en');
});

test('the page frame marks every text for the catalog', () => {
  // index.html: the texts of the frame are filled from the catalog, none is written in
  const body = html.slice(html.indexOf('<body>'), html.indexOf('</body>')).replace(/<noscript>[\s\S]*?<\/noscript>/, '');
  const texts = body.replace(/<[^>]+>/g, '\n').split('\n').map((s) => s.trim()).filter(Boolean);
  assert.deepEqual(texts, []);
});
