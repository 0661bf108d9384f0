// Unit tests of the UI's pure modules (no browser, no portal): the server-sent events parser and
// the search model that merges the document with the event stream.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { SseParser } from '../api.js';
import { ROW_COUNTS, ResultQuery, SearchModel, csvField, parseList } from '../model.js';

function parseAll(chunks) {
  const out = [];
  const p = new SseParser((type, data) => out.push([type, data]));
  for (const c of chunks) p.push(c);
  p.end();
  return out;
}

test('SSE: events split across chunks at any byte', () => {
  const text = 'event: member\ndata: {"member":"a","status":"running"}\n\n: keep-alive\n\nevent: done\ndata: {"hits":3}\n\n';
  const whole = parseAll([text]);
  assert.deepEqual(whole, [['member', { member: 'a', status: 'running' }], ['done', { hits: 3 }]]);
  for (let cut = 1; cut < text.length; cut += 1) {
    assert.deepEqual(parseAll([text.slice(0, cut), text.slice(cut)]), whole, `cut at ${cut}`);
  }
});

test('SSE: CRLF and CR line ends, multi-line data, no space after the colon, default type', () => {
  assert.deepEqual(parseAll(['event:progress\r\ndata:{"a":\r\ndata: 1}\r\n\r\n']), [['progress', { a: 1 }]]);
  assert.deepEqual(parseAll(['data: plain\r', '\rdata: x\n\n']), [['message', 'plain'], ['message', 'x']]);
  // a lone \r at a chunk end followed by \n is one line end, not two
  assert.deepEqual(parseAll(['event: hits\r', '\ndata: {}\r', '\n\r\n']), [['hits', {}]]);
  // an event without data is not dispatched; an unterminated last event is
  assert.deepEqual(parseAll(['event: x\n\n', 'event: done\ndata: {}']), [['done', {}]]);
});

const DOC = {
  id: 's1', label: 'case', tlp: 'amber', owner: 'alice', created: 1732600000, status: 'running',
  progress: { members_total: 2, members_done: 0, hits: 0 },
  members: [
    { member: 'b', display_name: 'B', status: 'queued', error: '', elapsed_ms: 0, hits: 0 },
    { member: 'a', display_name: 'A', status: 'queued', error: '', elapsed_ms: 0, hits: 0 },
  ],
  indicators: [
    { i: 0, value: '198.51.100.7', type: 'ip-dst', normalized: '198.51.100.7', held_by: 0, hits: [] },
    { i: 1, value: 'evil[.]example', type: 'domain', normalized: 'evil.example', held_by: 0, hits: [] },
  ],
  invalid: [{ value: 'zzz', error: 'not an indicator' }],
};

test('model: events update members and hits; a replayed stream does not duplicate hits', () => {
  const m = new SearchModel(structuredClone(DOC));
  const hitsA = { member: 'a', indicators: [{ i: 0, hits: [{ member: 'a', relation: 'in-range', matched: '198.51.100.0/24', type: 'ip-dst' }] }] };
  const hitsB = { member: 'b', indicators: [{ i: 0, hits: [{ member: 'b', relation: 'exact', matched: '198.51.100.7', type: 'ip-dst' }] }] };
  let ch = m.apply('member', { member: 'a', status: 'running' });
  assert.deepEqual(ch.members, ['a']);
  ch = m.apply('hits', hitsA);
  assert.equal(ch.hits, 1);
  m.apply('hits', hitsB);
  assert.equal(m.apply('hits', hitsA).hits, 0);  // replayed
  m.apply('member', { member: 'b', status: 'failed', error: 'connection refused' });
  const ind = m.indicators[0];
  assert.equal(m.heldBy(ind), 2);
  assert.equal(m.store.length, 2);
  // the default order: input order, then the members by display name, then relation
  const q = new ResultQuery(m);
  const res = q.run();
  assert.deepEqual(q.window(res, 0, 10).map((r) => r.member), ['a', 'b']);
  assert.equal(m.members.get('b').error, 'connection refused');
  assert.equal(m.membersDone(), 1);
  const s = m.summary();
  assert.equal(s.final, false);
  assert.equal(s.hits, 2);
  assert.equal(s.matched, 1);
  assert.deepEqual(s.by_relation, { exact: 1, 'in-range': 1 });
  assert.deepEqual(m.unmatched().map((x) => x.value), ['evil[.]example']);
});

test('model: the final document and summary win; counts-only members get one row per indicator', () => {
  const m = new SearchModel(structuredClone(DOC));
  m.apply('hits', { member: 'a', indicators: [{ i: 0, hits: [{ member: 'a', relation: 'exact', matched: '198.51.100.7', type: 'ip-dst' }] }] });
  m.apply('done', { indicators: 2, matched: 1, hits: 1, by_member: { a: 1 }, by_type: { 'ip-dst': 1 }, by_relation: { exact: 1 } });
  assert.equal(m.status, 'done');
  const final = structuredClone(DOC);
  final.status = 'done';
  final.indicators[1].held_by = 1;  // a member that discloses counts only: no hit rows
  final.summary = { indicators: 2, matched: 1, hits: 0, by_member: {}, by_type: {}, by_relation: {} };
  m.load(final);
  assert.equal(m.heldBy(m.indicators[1]), 1);
  assert.equal(m.indicators[1].holders.size, 0);
  assert.equal(m.summary().final, true);
  assert.equal(m.summary().hits, 0);
  // the document's (empty) hits replaced what the events brought; one counts-only row remains
  assert.equal(m.store.length, 1);
  const q = new ResultQuery(m);
  const [row] = q.window(q.run(), 0, 5);
  assert.equal(row.kind, ROW_COUNTS);
  assert.equal(row.count, 1);
  assert.equal(row.value, 'evil[.]example');
  assert.deepEqual(m.invalid, [{ value: 'zzz', error: 'not an indicator' }]);
  // a counts-only row is not a hit: the CSV leaves it out
  assert.equal(q.csv(q.run()).rows, 0);
});

// A finished document with hits of several members, relations, types, classes and gaps.
function bigDoc(nInd, hitsPer) {
  const members = ['honeypot', 'anonymity', 'vendor', 'agency'];
  const rels = ['exact', 'in-range', 'subdomain', 'url-host'];
  const indicators = [];
  for (let i = 0; i < nInd; i += 1) {
    const hits = [];
    for (let k = 0; k < hitsPer; k += 1) {
      const n = i * hitsPer + k;
      hits.push({
        member: members[n % 4], relation: rels[(i + k) % 4], matched: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
        type: k % 3 ? 'ip-dst' : 'ip-src', category: 'Network activity', event_info: `event ${i % 97}`,
        event_date: `20${10 + (i % 15)}-0${1 + (k % 9)}-1${k % 10}`, tags: k % 2 ? ['tlp:white', `kind:${k}`] : [],
        first_seen: '', last_seen: '', to_ids: Boolean(k % 2), time_gap: i % 10 === 0,
      });
    }
    indicators.push({ i, value: `198.18.${(i >> 8) & 255}.${i & 255}`, type: 'ip-dst', normalized: '', date: '', held_by: hits.length ? 1 : 0, hits });
  }
  return {
    id: 'big', status: 'done', time_gap_days: 365,
    members: members.map((m) => ({ member: m, display_name: m.toUpperCase(), status: 'done' })),
    indicators, invalid: [], summary: { indicators: nInd, matched: nInd, hits: nInd * hitsPer },
  };
}
const KINDS = [{ name: 'honeypot', data_kind: 'honeypot' }, { name: 'anonymity', data_kind: 'vpn' }, { name: 'vendor' }, { name: 'agency', data_kind: 'benign' }];

test('results: filters combine, and each facet counts the rows its values would show', () => {
  const m = new SearchModel(bigDoc(200, 4), KINDS);
  const q = new ResultQuery(m);
  const all = q.run();
  assert.equal(all.total, 800);
  assert.deepEqual(all.facets.member, { honeypot: 200, anonymity: 200, vendor: 200, agency: 200 });
  assert.deepEqual(all.facets.class, { noise: 200, anonymizer: 200, threat: 200, benign: 200 });
  assert.equal(all.facets.gap.gap, 80);
  const one = q.run({ member: 'honeypot' });
  assert.equal(one.total, 200);
  // the member facet still counts every member (as if chosen), the others count honeypot only
  assert.deepEqual(one.facets.member, all.facets.member);
  assert.equal(Object.values(one.facets.relation).reduce((a, b) => a + b, 0), 200);
  const two = q.run({ member: 'honeypot', gap: 'gap' });
  assert.equal(two.total, q.window(two, 0, 1e6).filter((r) => r.member === 'honeypot' && r.gap).length);
  assert.equal(two.total, one.facets.gap.gap);
  // text matches values, matched values, member names, events, tags; case-insensitive
  assert.equal(q.run({ text: 'EVENT 3' }).total, q.window(all, 0, 1e6).filter((r) => r.eventInfo.startsWith('event 3')).length);
  assert.equal(q.run({ text: 'kind:3' }).total, 200);
  assert.equal(q.run({ text: 'vendor' }).total, 200);
  assert.equal(q.run({ text: '198.18.0.199' }).total, 4);
  assert.equal(q.run({ class: 'anonymizer', relation: 'exact' }).total, q.window(all, 0, 1e6).filter((r) => r.class === 'anonymizer' && r.relation === 'exact').length);
  assert.equal(q.run({ type: 'no-such-type' }).total, 0);
});

test('results: sorting by any column is a stable order of the filtered rows, both ways', () => {
  const m = new SearchModel(bigDoc(300, 3), KINDS);
  const q = new ResultQuery(m);
  const cmp = {
    member: (r) => r.display.toLowerCase(),
    relation: (r) => ['exact', 'component', 'url-host', 'subdomain', 'in-range'].indexOf(r.relation),
    matched: (r) => r.matched,
    type: (r) => r.type,
    event: (r) => r.eventDate,
    gap: (r) => (r.gap ? 0 : 1),
  };
  for (const [key, f] of Object.entries(cmp)) {
    for (const dir of ['asc', 'desc']) {
      const res = q.run({ relation: '' }, { key, dir });
      const rows = q.window(res, 0, res.total);
      assert.equal(rows.length, 900);
      for (let k = 1; k < rows.length; k += 1) {
        const a = f(rows[k - 1]);
        const b = f(rows[k]);
        assert.ok(dir === 'asc' ? a <= b : a >= b, `${key} ${dir} at ${k}: ${a} / ${b}`);
      }
    }
  }
  // the same filters and sort answer from the cache
  const first = q.run({ member: 'vendor' }, { key: 'matched', dir: 'desc' });
  assert.equal(q.run({ member: 'vendor' }, { key: 'matched', dir: 'desc' }), first);
});

test('results: copy as CSV has the export columns and quotes what needs quoting', () => {
  const doc = bigDoc(2, 1);
  doc.indicators[0].hits[0].event_info = 'a "quoted", comma\nline';
  doc.indicators[1].hits = [{ member: 'vendor', relation: 'exact' }];  // existence only
  const m = new SearchModel(doc, KINDS);
  const q = new ResultQuery(m);
  const { text, rows } = q.csv(q.run());
  assert.equal(rows, 2);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'query,query_type,member,relation,matched,type,category,event_info,event_date,first_seen,last_seen,to_ids,tags,time_gap');
  assert.ok(lines[1].includes('"a ""quoted"", comma'), lines[1]);
  assert.equal(lines.at(-1), '198.18.0.1,ip-dst,vendor,exact,,,,,,,,,,');
  assert.equal(csvField('=1+1'), '=1+1');
  assert.equal(csvField('x,y'), '"x,y"');
});

test('results: 10^6 hits filter and sort in the time a worker can afford (measured, not asserted)', () => {
  // the store filled directly (the document's parse is the browser's JSON.parse, not ours)
  const m = new SearchModel(bigDoc(100_000, 0), KINDS);
  const t0 = performance.now();
  const members = ['honeypot', 'anonymity', 'vendor', 'agency'];
  const rels = ['exact', 'in-range', 'subdomain', 'url-host'];
  const hit = { member: '', relation: '', matched: '', type: '', category: 'Network activity', event_info: '', event_date: '', tags: [], to_ids: true, time_gap: false };
  m.store.reserve(1_000_000);
  for (let n = 0; n < 1_000_000; n += 1) {
    const i = Math.floor(n / 10);
    hit.member = members[n % 4];
    hit.relation = rels[(i + n) % 4];
    hit.matched = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    hit.type = n % 3 ? 'ip-dst' : 'ip-src';
    hit.event_info = `event ${i % 97}`;
    hit.event_date = `20${10 + (i % 15)}-0${1 + (n % 9)}-1${n % 10}`;
    hit.time_gap = i % 10 === 0;
    m.store.add(i, hit.member, hit);
  }
  const t1 = performance.now();
  const q = new ResultQuery(m);
  const first = q.run();
  const t2 = performance.now();
  const sorted = q.run({}, { key: 'matched', dir: 'desc' });
  const t3 = performance.now();
  const filtered = q.run({ text: '10.1.', member: 'anonymity' }, { key: 'matched', dir: 'desc' });
  const t4 = performance.now();
  const csv = q.csv(filtered, 100_000);
  const t5 = performance.now();
  assert.equal(first.total, 1_000_000);
  assert.equal(sorted.total, 1_000_000);
  assert.equal(first.facets.member.vendor, 250_000);
  assert.equal(first.facets.gap.gap, 100_000);
  assert.ok(filtered.total > 0 && filtered.total < 1_000_000);
  assert.equal(csv.rows, Math.min(filtered.total, 100_000));
  const ms = (a, b) => `${Math.round(b - a)} ms`;
  console.log(`# 10^6 hits (10^5 indicators) in Node ${process.version}: store ${ms(t0, t1)}, default order + facet counts ${ms(t1, t2)}, sort by matched value ${ms(t2, t3)}, text + member filter ${ms(t3, t4)}, CSV of the filter ${ms(t4, t5)}`);
});

test('parseList: one value per line, comments and blanks skipped', () => {
  assert.deepEqual(parseList(' 1.2.3.4 \r\n\n# note\nevil[.]example\r'), ['1.2.3.4', 'evil[.]example']);
});

test('no HTML parsing of data anywhere: the UI never uses innerHTML and friends', () => {
  const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const files = fs.readdirSync(web).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= 8, files.join(','));
  for (const f of files) {
    const src = fs.readFileSync(path.join(web, f), 'utf8').replace(/\/\/.*$/gm, '');
    assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, f);
  }
  const html = fs.readFileSync(path.join(web, 'index.html'), 'utf8');
  assert.match(html, /Content-Security-Policy/);
  assert.doesNotMatch(html, /https?:\/\//, 'no external resources');
});
