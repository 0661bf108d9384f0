// One search: header with exports, live status line, members' status panel, summary, results
// grouped by indicator, indicators without hits, invalid indicators.
//
// Live updates come from GET /api/v1/searches/{id}/events (read with fetch + ReadableStream) and
// are applied in small batches. Every region exists from the first paint with its final shape;
// rows update in place and result cards are inserted in input order, so what the analyst is
// reading does not move (scroll anchoring keeps the viewport steady when a card lands above).

import * as api from './api.js';
import { h, clear, fmtTime, fmtMs, plural } from './dom.js';
import { RELATIONS, SearchModel, STATUS_TEXT, FINAL_MEMBER_STATUSES } from './model.js';

const STATUS_ICON = {
  queued: '·', running: '↻', done: '✓', failed: '✗', timed_out: '◔', skipped: '⊘',
};
const UNMATCHED_OPEN_LIMIT = 40;   // open the list of indicators without hits when it is short
const UNMATCHED_LIST_LIMIT = 2000; // and never draw more than this many of them

export function renderSearch(id, { announce, errorBox, tlpBadge }) {
  const ctrl = new AbortController();
  const root = h('section.search', { 'aria-busy': 'true' });
  const title = h('h1#search-title', { tabindex: '-1' }, 'Search');
  root.append(h('div.page-head', title), h('p.muted', 'Loading the search…'));

  let model = null;
  let flushTimer = 0;
  const dirty = { members: new Set(), indicators: new Set(), all: false };
  const els = {};

  start();
  return {
    node: root,
    focus: title,
    cleanup: () => {
      ctrl.abort();
      clearTimeout(flushTimer);
    },
  };

  async function start() {
    let doc;
    try {
      doc = await api.getSearch(id, ctrl.signal);
    } catch (err) {
      if (ctrl.signal.aborted) return;
      root.setAttribute('aria-busy', 'false');
      clear(root,
        h('div.page-head', title),
        errorBox(err, 'Cannot open this search'),
        h('p', h('a', { href: '#/history' }, 'Back to the history')));
      title.textContent = 'Search not available';
      return;
    }
    if (ctrl.signal.aborted) return;
    model = new SearchModel(doc);
    build();
    root.setAttribute('aria-busy', model.status === 'running' ? 'true' : 'false');
    if (model.status === 'running') live();
  }

  // ------------------------------------------------------------ live updates

  async function live() {
    let sawDone = false;
    const streamCtrl = new AbortController();
    ctrl.signal.addEventListener('abort', () => streamCtrl.abort());
    try {
      await api.streamEvents(id, (type, data) => {
        const ch = model.apply(type, data);
        for (const m of ch.members) dirty.members.add(m);
        for (const i of ch.indicators) dirty.indicators.add(i);
        if (ch.progress || ch.members.length || ch.indicators.length) schedule();
        if (ch.done) {
          sawDone = true;
          streamCtrl.abort();  // the stream may stay open; the document has the final word
        }
      }, streamCtrl.signal);
    } catch (err) {
      if (ctrl.signal.aborted) return;
      if (!sawDone) {
        // No stream (proxy, old browser, error): fall back to polling the document.
        els.streamNote.textContent = `Live updates unavailable (${err.message}); checking every second.`;
        els.streamNote.hidden = false;
      }
    }
    if (ctrl.signal.aborted) return;
    await settle();
  }

  // Reads the document until the search is no longer running.
  async function settle() {
    for (let attempt = 0; !ctrl.signal.aborted; attempt += 1) {
      try {
        const doc = await api.getSearch(id, ctrl.signal);
        if (ctrl.signal.aborted) return;
        model.load(doc);
        dirty.all = true;
        flush();
        if (model.status !== 'running') {
          root.setAttribute('aria-busy', 'false');
          els.streamNote.hidden = true;
          return;
        }
      } catch (err) {
        if (ctrl.signal.aborted) return;
        els.streamNote.textContent = `Cannot refresh the search: ${err.message}. Retrying…`;
        els.streamNote.hidden = false;
      }
      await sleep(Math.min(1000, 200 + attempt * 100), ctrl.signal);
    }
  }

  function schedule() {
    if (!flushTimer) flushTimer = setTimeout(flush, 60);
  }

  function flush() {
    clearTimeout(flushTimer);
    flushTimer = 0;
    if (!model) return;
    const all = dirty.all;
    const names = all ? [...model.members.keys()] : [...dirty.members];
    const inds = all ? model.indicators.map((x) => x.i) : [...dirty.indicators];
    dirty.members.clear();
    dirty.indicators.clear();
    dirty.all = false;
    for (const name of names) updateMemberRow(name);
    // held_by's "of n" and member names depend on the member list: redraw every card on `all`
    for (const i of inds) updateCard(i);
    updateHeader();
    updateStatusLine();
    updateSummary();
    updateUnmatched();
    updateInvalid();
    applyFilter();
  }

  // ------------------------------------------------------------ layout

  function build() {
    clear(root);
    els.meta = h('p.meta');
    els.exports = h('div.exports', { role: 'group', 'aria-label': 'Export the results' },
      h('span.exports-label', 'Export'),
      Object.entries(api.EXPORTS).map(([fmt, spec]) => h('button.export', {
        type: 'button', dataset: { format: fmt },
        on: { click: (e) => exportAs(fmt, e.currentTarget) },
      }, spec.label)));
    els.statusText = h('p.status-text');
    els.progress = h('progress#search-progress', { max: '1', value: '0', 'aria-label': 'Members answered' });
    els.streamNote = h('p.note', { hidden: true, role: 'status' });
    els.memberTable = h('table.members-table',
      h('thead', h('tr', ['Member', 'Status', 'Hits', 'Time'].map((c) => h('th', { scope: 'col' }, c)))));
    els.memberRows = new Map();
    els.summary = h('div.summary-body');
    els.filter = h('input#result-filter', {
      type: 'search', placeholder: 'Filter by value, member or tag', autocomplete: 'off',
      spellcheck: 'false', on: { input: () => applyFilter() },
    });
    els.filterCount = h('span.muted.small', { 'aria-live': 'polite' });
    els.results = h('div#results-list.results');
    els.cards = new Map();
    els.waiting = h('p.empty.results-waiting');
    els.unmatched = h('div#unmatched');
    els.invalid = h('section#invalid', { 'aria-labelledby': 'invalid-h', hidden: true });

    root.append(
      h('div.page-head', title, els.exports),
      els.meta,
      h('div.statusline', { role: 'status', 'aria-live': 'polite' }, els.statusText, els.progress),
      els.streamNote,
      h('div.two-col',
        h('section#members-panel.panel', { 'aria-labelledby': 'members-h' },
          h('h2#members-h', 'Members'),
          h('div.table-wrap', els.memberTable)),
        h('section#summary.panel', { 'aria-labelledby': 'summary-h' },
          h('h2#summary-h', 'Summary'), els.summary)),
      h('section#results', { 'aria-labelledby': 'results-h' },
        h('div.results-head',
          h('h2#results-h', 'Results by indicator'),
          h('div.filter', h('label', { for: 'result-filter' }, 'Filter'), els.filter, els.filterCount)),
        els.waiting,
        els.results,
        els.unmatched),
      els.invalid);

    for (const name of model.members.keys()) updateMemberRow(name);
    for (const ind of model.indicators) updateCard(ind.i);
    updateHeader();
    updateStatusLine();
    updateSummary();
    updateUnmatched();
    updateInvalid();
  }

  function updateHeader() {
    title.textContent = model.label ? model.label : 'Untitled search';
    clear(els.meta,
      model.tlp ? tlpBadge(model.tlp) : null,
      model.owner ? h('span', 'by ', h('strong', model.owner)) : null,
      model.created ? h('span', fmtTime(model.created)) : null,
      model.shared ? h('span', 'shared with the alliance') : null,
      h('span.mono.small', { title: 'Search id' }, `id ${model.id || id}`));
    const ready = model.status !== 'running';
    for (const b of els.exports.querySelectorAll('button')) {
      b.disabled = !ready || b.dataset.busy === '1';
      b.title = ready ? '' : 'Available when the search is done';
    }
  }

  function updateStatusLine() {
    const total = model.membersTotal();
    const done = model.membersDone();
    const s = model.summary();
    const failed = [...model.members.values()].filter((m) => ['failed', 'timed_out', 'skipped'].includes(m.status));
    els.progress.max = Math.max(total, 1);
    els.progress.value = model.status === 'running' ? done : Math.max(total, 1);
    const parts = [];
    if (model.status === 'running') {
      parts.push(h('strong.st-running', 'Searching…'),
        ` ${done} of ${plural(total, 'member')} answered · ${plural(Math.max(s.hits, model.progress.hits), 'hit')} so far`);
    } else {
      const verdict = model.status === 'interrupted'
        ? h('strong.st-failed', 'Interrupted — the portal stopped during this search; results may be incomplete.')
        : h('strong.st-done', 'Done');
      parts.push(verdict);
      if (model.status === 'interrupted') {
        parts.push(' ', h('button#rerun.secondary', {
          type: 'button',
          on: {
            click: async (e) => {
              const button = e.currentTarget;
              button.disabled = true;
              try {
                const started = await api.rerunSearch(model.id || id);
                location.hash = `#/search/${encodeURIComponent(started.id)}`;
              } catch (err) {
                button.disabled = false;
                els.streamNote.hidden = false;
                els.streamNote.textContent = `Could not run it again: ${err.message}`;
              }
            },
          },
        }, 'Run again'));
      }
      if (model.status !== 'interrupted' && model.elapsed_ms !== undefined && model.elapsed_ms !== null) {
        parts.push(` in ${fmtMs(model.elapsed_ms)}`);
      }
      parts.push(` — ${s.matched} of ${plural(s.indicators, 'indicator')} held by members · ${plural(s.hits, 'hit')}`);
    }
    if (failed.length) {
      parts.push(' · ', h('strong.st-failed', `${plural(failed.length, 'member')} did not answer`));
    }
    clear(els.statusText, ...parts);
  }

  function updateMemberRow(name) {
    const m = model.members.get(name);
    if (!m) return;
    let row = els.memberRows.get(name);
    if (!row) {
      // one <tbody> per member: its status row, then (only when there is one) the reason on a
      // full-width line so long error texts stay readable
      row = {
        body: h('tbody', { dataset: { member: name } }),
        name: h('th', { scope: 'row' }),
        status: h('td.status-cell'),
        hits: h('td.num'),
        time: h('td.num.nowrap'),
        detailRow: h('tr.detail-row', { hidden: true }),
        detail: h('td.detail', { colspan: '4' }),
      };
      row.body.append(h('tr.main-row', row.name, row.status, row.hits, row.time), row.detailRow);
      row.detailRow.append(row.detail);
      els.memberRows.set(name, row);
      els.memberTable.append(row.body);
    }
    const status = m.status || 'queued';
    const final = FINAL_MEMBER_STATUSES.has(status);
    row.body.className = `st-row-${status}`;
    clear(row.name,
      h('span.member-name', m.display_name || name),
      m.display_name && m.display_name !== name ? h('span.mono.muted.small.member-id', name) : null);
    clear(row.status, statusBadge(status));
    row.hits.textContent = final || m.hits ? String(m.hits) : '';
    const timed = final && status !== 'skipped' && m.elapsed_ms !== null && m.elapsed_ms !== undefined;
    row.time.textContent = timed ? fmtMs(m.elapsed_ms) : '';
    clear(row.detail);
    if (m.error) {
      row.detail.append(h('span.sr-only', `${m.display_name || name}: `), h('span.member-error', m.error));
    } else if (status === 'done' && m.relations && m.relations.length && m.relations.length < RELATIONS.length) {
      // a member that could not be asked for every relation (e.g. plain MISP)
      row.detail.append(h('span.muted.small', `could be asked for ${m.relations.join(', ')} only`));
    }
    row.detailRow.hidden = !row.detail.hasChildNodes();
    row.body.classList.toggle('has-detail', !row.detailRow.hidden);
  }

  function statusBadge(status) {
    return h('span.badge', { class: `st-${status}` },
      h('span', { 'aria-hidden': 'true' }, `${STATUS_ICON[status] || '?'} `),
      STATUS_TEXT[status] || status);
  }

  function updateSummary() {
    const s = model.summary();
    const table = (caption, obj, fmtKey) => {
      const entries = Object.entries(obj).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      return h('table.mini',
        h('caption', caption),
        h('tbody', entries.length
          ? entries.map(([k, n]) => h('tr', h('th', { scope: 'row' }, fmtKey ? fmtKey(k) : k), h('td.num', String(n))))
          : h('tr', h('td.muted', { colspan: '2' }, 'none'))));
    };
    const memberName = (k) => {
      const m = model.members.get(k);
      return m && m.display_name ? m.display_name : k;
    };
    clear(els.summary,
      h('dl.totals',
        h('div', h('dt', 'Indicators'), h('dd', String(s.indicators))),
        h('div', h('dt', 'Held by members'), h('dd', String(s.matched))),
        h('div', h('dt', 'Hits'), h('dd', String(s.hits))),
        h('div', h('dt', 'Invalid'), h('dd', String(model.invalid.length)))),
      h('div.mini-tables',
        table('Hits per member', s.by_member, memberName),
        table('per type', s.by_type),
        table('per relation', s.by_relation, (k) => h('span.badge.rel', { dataset: { rel: k } }, k))),
      s.final ? null : h('p.muted.small', 'Counting as results arrive.'));
  }

  // ------------------------------------------------------------ result cards

  function updateCard(i) {
    const ind = model.indicators[i];
    if (!ind) return;
    const held = model.heldBy(ind);
    let card = els.cards.get(i);
    if (held === 0) {
      if (card) {
        card.remove();
        els.cards.delete(i);
      }
      return;
    }
    if (!card) {
      card = h('article.ioc-card', { id: `ind-${i}`, dataset: { i: String(i) }, 'aria-labelledby': `ind-${i}-h` });
      els.cards.set(i, card);
      // keep input order: insert before the first card with a larger position
      let before = null;
      for (const c of els.results.children) {
        if (Number(c.dataset.i) > i) {
          before = c;
          break;
        }
      }
      els.results.insertBefore(card, before);
    }
    const rows = model.hits(ind);
    const named = model.namedHolders(ind).size;
    const total = model.membersTotal();
    const hidden = held - named;
    const filterText = [ind.value, ind.normalized, ind.type];
    const head = h('header.ioc-head',
      h('h3.ioc', { id: `ind-${i}-h` }, ind.value || ind.normalized || `#${i + 1}`),
      h('div.ioc-facts',
        ind.type ? h('span.type-chip', ind.type) : null,
        h('span.heldby', 'held by ', h('strong', String(held)), ` of ${plural(total, 'member')}`),
        hidden > 0 ? h('span.muted.small', `(${hidden} without details: ${hidden === 1 ? 'that member shares' : 'those members share'} counts only)`) : null,
        ind.normalized && ind.normalized !== ind.value ? h('span.muted.small', 'searched as ', h('span.mono', ind.normalized)) : null,
        ind.date ? h('span.muted.small', `dated ${ind.date}`) : null));
    const body = rows.length ? hitsTable(rows) : null;
    for (const r of rows) filterText.push(r.member, r.matched, r.event_info, ...(Array.isArray(r.tags) ? r.tags : []));
    card.dataset.filter = filterText.filter(Boolean).join('\n').toLowerCase();
    card.classList.toggle('has-gap', rows.some((r) => r.time_gap));
    clear(card, head, body);
  }

  function hitsTable(rows) {
    const cols = ['Member', 'Relation', 'Matched value', 'Type / category', 'Event', 'Tags', 'First / last seen', 'IDS'];
    return h('div.table-wrap', h('table.hits',
      h('thead', h('tr', cols.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', rows.map((r) => hitRow(r)))));
  }

  function hitRow(r) {
    const m = model.members.get(r.member);
    const memberCell = h('th.member-cell', { scope: 'row' },
      h('span.member-name', (m && m.display_name) || r.member));
    const rel = h('td', relationBadge(r.relation));
    const existenceOnly = !r.matched && !r.type && !r.category && !r.event_info && !r.event_uuid;
    if (existenceOnly) {
      return h('tr.hit.existence', memberCell, rel,
        h('td.muted', { colspan: '6' }, 'Details withheld: this member discloses only that it holds the indicator.'));
    }
    const tags = Array.isArray(r.tags) ? r.tags : [];
    const gap = r.time_gap === true;
    return h('tr.hit', { class: gap ? 'gap' : '' },
      memberCell,
      rel,
      h('td.mono.matched', String(r.matched ?? '')),
      h('td', h('span.type-chip', String(r.type ?? '')), r.category ? h('span.block.muted.small', String(r.category)) : null),
      h('td.event',
        r.event_info ? h('span.block', String(r.event_info)) : null,
        r.event_date ? h('span.block.small.nowrap', String(r.event_date)) : null,
        gap ? h('span.gap-marker', { title: "The member's data and this indicator's own date are far apart" }, '⚠ time gap') : null,
        r.comment ? h('span.block.muted.small', String(r.comment)) : null),
      h('td.tags', tags.length ? tags.map((t) => h('span.tag', String(t))) : h('span.muted', '—')),
      h('td.small', seen(r.first_seen, r.last_seen)),
      h('td', r.to_ids ? h('span.ids-yes', 'yes') : h('span.muted', 'no')));
  }

  function seen(first, last) {
    if (!first && !last) return h('span.muted', '—');
    return [h('span.block', String(first || '?')), h('span.block', `→ ${last || '?'}`)];
  }

  function relationBadge(rel) {
    return h('span.badge.rel', { dataset: { rel: String(rel ?? '') } }, String(rel ?? ''));
  }

  function updateUnmatched() {
    const running = model.status === 'running';
    const matched = els.cards.size;
    clear(els.waiting);
    els.waiting.hidden = matched > 0;
    if (!matched) {
      if (running) els.waiting.append('Waiting for the members’ answers…');
      else if (model.indicators.length === 0) els.waiting.append('No valid indicator to search.');
      else els.waiting.append(h('strong', 'No member holds any of these indicators.'));
    }
    clear(els.unmatched);
    if (running) return;
    const none = model.unmatched();
    if (!none.length) return;
    const shown = none.slice(0, UNMATCHED_LIST_LIMIT);
    const details = h('details.unmatched', { open: none.length <= UNMATCHED_OPEN_LIMIT },
      h('summary', `${plural(none.length, 'indicator')} without hits`),
      h('ul.plain-list', shown.map((ind) => h('li',
        h('span.mono', ind.value || ind.normalized),
        ind.type ? h('span.type-chip', ind.type) : null))),
      none.length > shown.length
        ? h('p.muted', `… and ${(none.length - shown.length).toLocaleString('en')} more: the CSV and JSON exports list them all.`)
        : null);
    els.unmatched.append(details);
  }

  function updateInvalid() {
    clear(els.invalid);
    els.invalid.hidden = model.invalid.length === 0;
    if (!model.invalid.length) return;
    els.invalid.append(
      h('h2#invalid-h', `Invalid indicators (${model.invalid.length})`),
      h('p.muted', 'These entries were not searched:'),
      h('div.table-wrap', h('table.invalid-table',
        h('thead', h('tr', h('th', { scope: 'col' }, 'Entry'), h('th', { scope: 'col' }, 'Why'))),
        h('tbody', model.invalid.map((x) => h('tr', h('td.mono', x.value), h('td', x.error)))))));
  }

  function applyFilter() {
    if (!els.filter) return;
    const q = els.filter.value.trim().toLowerCase();
    let shown = 0;
    for (const card of els.cards.values()) {
      const ok = !q || (card.dataset.filter || '').includes(q);
      card.hidden = !ok;
      if (ok) shown += 1;
    }
    els.filterCount.textContent = q ? `${shown} of ${els.cards.size} shown` : '';
  }

  async function exportAs(format, button) {
    const label = button.textContent;
    button.dataset.busy = '1';
    button.disabled = true;
    button.textContent = 'Preparing…';
    try {
      const { filename, bytes } = await api.downloadExport(model.id || id, format);
      announce(`Downloaded ${filename} (${bytes.toLocaleString('en')} bytes).`);
    } catch (err) {
      announce(`Export failed: ${err.message}`, 'error');
    } finally {
      button.dataset.busy = '';
      button.disabled = false;
      button.textContent = label;
    }
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
