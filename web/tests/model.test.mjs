// Unit tests of the UI's pure modules (no browser, no portal): the server-sent events parser and
// the search model that merges the document with the event stream.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { SseParser } from '../api.js';
import { SearchModel, parseList } from '../model.js';

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
  assert.deepEqual(ch.indicators, [0]);
  m.apply('hits', hitsB);
  m.apply('hits', hitsA);  // replayed
  m.apply('member', { member: 'b', status: 'failed', error: 'connection refused' });
  const ind = m.indicators[0];
  assert.equal(m.heldBy(ind), 2);
  // ordered by the members panel (b first), then relation
  assert.deepEqual(m.hits(ind).map((h) => h.member), ['b', 'a']);
  assert.equal(m.members.get('b').error, 'connection refused');
  assert.equal(m.membersDone(), 1);
  const s = m.summary();
  assert.equal(s.final, false);
  assert.equal(s.hits, 2);
  assert.equal(s.matched, 1);
  assert.deepEqual(s.by_relation, { exact: 1, 'in-range': 1 });
  assert.deepEqual(m.unmatched().map((x) => x.value), ['evil[.]example']);
});

test('model: the final document and summary win; counts-only members raise held_by', () => {
  const m = new SearchModel(structuredClone(DOC));
  m.apply('done', { indicators: 2, matched: 1, hits: 1, by_member: { a: 1 }, by_type: { 'ip-dst': 1 }, by_relation: { exact: 1 } });
  assert.equal(m.status, 'done');
  const final = structuredClone(DOC);
  final.status = 'done';
  final.indicators[1].held_by = 1;  // a member that discloses counts only: no hit rows
  final.summary = { indicators: 2, matched: 1, hits: 0, by_member: {}, by_type: {}, by_relation: {} };
  m.load(final);
  assert.equal(m.heldBy(m.indicators[1]), 1);
  assert.equal(m.namedHolders(m.indicators[1]).size, 0);
  assert.equal(m.summary().final, true);
  assert.equal(m.summary().hits, 0);
  assert.deepEqual(m.invalid, [{ value: 'zzz', error: 'not an indicator' }]);
});

test('parseList: one value per line, comments and blanks skipped', () => {
  assert.deepEqual(parseList(' 1.2.3.4 \r\n\n# note\nevil[.]example\r'), ['1.2.3.4', 'evil[.]example']);
});

test('no HTML parsing of data anywhere: the UI never uses innerHTML and friends', () => {
  const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const files = fs.readdirSync(web).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= 4, files.join(','));
  for (const f of files) {
    const src = fs.readFileSync(path.join(web, f), 'utf8').replace(/\/\/.*$/gm, '');
    assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/, f);
  }
  const html = fs.readFileSync(path.join(web, 'index.html'), 'utf8');
  assert.match(html, /Content-Security-Policy/);
  assert.doesNotMatch(html, /https?:\/\//, 'no external resources');
});
