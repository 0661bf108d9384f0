// One search: header with exports, live status line, members' status panel, summary, the
// results grid (results-grid.js), indicators without hits, invalid indicators.
//
// The search itself lives in a worker (results-worker.js): it fetches the document, follows the
// event stream while the search runs, and answers the grid's queries, so a result of 10^5
// indicators and 10^6 hits never blocks the page. This module draws what the worker reports.

import * as api from './api.js';
import { h, append, clear, u } from './dom.js';
import { setAttr, setText, T } from './i18n.js';
import { RELATIONS } from './model.js';
import { sightingButtons } from './continuity.js';
import { createResultsGrid } from './results-grid.js';
import {
  announce, classBadge, duration, errorBox, num, relationBadge, statusBadge, tlpBadge, when,
} from './ui.js';

const UNMATCHED_OPEN_LIMIT = 40;  // open the list of indicators without hits when it is short
const NOT_ANSWERED = new Set(['failed', 'timed_out', 'skipped']);

export function renderSearch(id) {
  const worker = new Worker(new URL('./results-worker.js', import.meta.url), { type: 'module' });
  const root = h('section.search', { 'aria-busy': 'true' });
  const title = h('h1#search-title', { tabindex: '-1', i18n: ['search.loadingTitle'] });
  const loading = h('p.muted', { i18n: ['search.loading'] });
  root.append(h('div.page-head', title), loading);

  let snap = null;       // the worker's latest model.snapshot()
  let built = false;
  const els = {};
  const grid = createResultsGrid({
    worker,
    searchId: () => (snap && snap.id) || id,
    memberLabel: (name) => {
      const m = snap && snap.members.find((x) => x.member === name);
      return (m && m.display_name) || name;
    },
  });

  worker.onmessage = (e) => {
    const m = e.data || {};
    if (m.type === 'state') onState(m.state);
    else if (m.type === 'rows' || m.type === 'csv') grid.onMessage(m);
    else if (m.type === 'live') showNote('search.liveUnavailable', {}, m.error);
    else if (m.type === 'error') onError(m);
  };
  worker.onerror = (e) => {
    onError({ phase: built ? 'query' : 'open', error: { status: 0, message: e.message || 'worker', code: '' } });
  };
  worker.postMessage({ type: 'open', id, key: api.getKey() });

  return {
    node: root,
    focus: title,
    cleanup: () => {
      grid.destroy();
      worker.postMessage({ type: 'close' });
      setTimeout(() => worker.terminate(), 100);
    },
  };

  function onError(m) {
    const err = api.ApiError.from(m.error || {});
    if (m.phase === 'open') {
      root.setAttribute('aria-busy', 'false');
      setText(title, 'search.notAvailable');
      clear(root,
        h('div.page-head', title),
        errorBox(err, 'search.cannotOpen'),
        h('p', h('a', { href: '#/history', i18n: ['search.backToHistory'] })));
    } else if (m.phase === 'live') {
      showNote('search.cannotRefresh', {}, m.error);
    } else {
      announce(err, 'error');
    }
  }

  function showNote(key, args, error) {
    if (!els.streamNote) return;
    clear(els.streamNote, T(key, args));
    if (error) {
      const d = api.ApiError.from(error);
      els.streamNote.append(' ', h('span.muted', u(d.message)));
    }
    els.streamNote.hidden = false;
  }

  function onState(s) {
    const first = !snap;
    snap = s;
    if (!built) build();
    root.setAttribute('aria-busy', s.status === 'running' ? 'true' : 'false');
    if (s.status !== 'running' && els.streamNote) els.streamNote.hidden = true;
    updateHeader();
    updateStatusLine();
    updateMembers();
    updateSummary();
    updateUnmatched();
    updateInvalid();
    updateSightings();
    grid.update({ rowsVersion: s.rowsVersion, rows: s.rows, running: s.status === 'running', members: s.members });
    if (first) performance.mark('iocgrid:search-state');
  }

  // ------------------------------------------------------------ layout

  function build() {
    built = true;
    clear(root);
    els.meta = h('p.meta');
    els.exports = h('div.exports', { role: 'group', i18nAttrs: { 'aria-label': ['export.group'] } },
      h('span.exports-label', { i18n: ['export.label'] }),
      Object.keys(api.EXPORTS).map((fmt) => h('button.export', {
        type: 'button', dataset: { format: fmt }, i18n: [`export.${fmt}`],
        on: { click: (e) => exportAs(fmt, e.currentTarget) },
      })));
    els.statusText = h('p.status-text');
    els.progress = h('progress#search-progress', { max: '1', value: '0', i18nAttrs: { 'aria-label': ['search.progress'] } });
    els.streamNote = h('p.note', { hidden: true, role: 'status' });
    els.memberTable = h('table.members-table',
      h('thead', h('tr', ['member', 'status', 'hits', 'time'].map((c) => h('th', { scope: 'col', i18n: [`search.members.col.${c}`] })))));
    els.memberRows = new Map();
    els.summary = h('div.summary-body');
    els.unmatched = h('div#unmatched');
    els.invalid = h('section#invalid', { 'aria-labelledby': 'invalid-h', hidden: true });
    els.sightings = h('section#search-sightings.panel', { 'aria-labelledby': 'search-sightings-h', hidden: true },
      h('h2#search-sightings-h', { i18n: ['sight.searchTitle'] }),
      h('p.muted.small', { i18n: ['sight.searchHelp'] }),
      sightingButtons(id, 'all', { idPrefix: 'search-sight' }));

    root.append(
      h('div.page-head', title, els.exports),
      els.meta,
      h('div.statusline', { role: 'status', 'aria-live': 'polite' }, els.statusText, els.progress),
      els.streamNote,
      h('div.two-col',
        h('section#members-panel.panel', { 'aria-labelledby': 'members-h' },
          h('h2#members-h', { i18n: ['search.members'] }),
          // focusable: on a phone the table scrolls sideways, and the keyboard must reach it
          h('div.table-wrap', { tabindex: '0', role: 'region', 'aria-labelledby': 'members-h' }, els.memberTable)),
        h('section#summary.panel', { 'aria-labelledby': 'summary-h' },
          h('h2#summary-h', { i18n: ['search.summary'] }), els.summary)),
      els.sightings,
      grid.node,
      els.unmatched,
      els.invalid);
  }

  // Confirm / false positive for the whole search: once it is done and holds hits.
  function updateSightings() {
    els.sightings.hidden = snap.status === 'running' || !(snap.summary && snap.summary.hits > 0);
  }

  function updateHeader() {
    if (snap.label) {
      title.removeAttribute('data-i18n');  // the label is the analyst's text
      clear(title, u(snap.label));
    } else {
      setText(title, 'search.untitled');
    }
    const parts = [
      snap.tlp ? tlpBadge(snap.tlp) : null,
      snap.owner ? h('span', { i18n: ['search.by', { owner: u(snap.owner, 'strong') }] }) : null,
      snap.created ? when(snap.created) : null,
      snap.shared ? h('span', { i18n: ['search.sharedNote'] }) : null,
      h('span.mono.small', { i18n: ['search.id', { id: u(snap.id || id) }] }),
    ];
    clear(els.meta, ...parts);
    const ready = snap.status !== 'running';
    for (const b of els.exports.querySelectorAll('button')) {
      b.disabled = !ready || b.dataset.busy === '1';
      if (ready) {
        b.removeAttribute('title');
        b.removeAttribute('data-i18n-title');
      } else {
        setAttr(b, 'title', 'export.whenDone');
      }
    }
  }

  function updateStatusLine() {
    const total = snap.membersTotal;
    const done = snap.membersDone;
    const s = snap.summary;
    const failed = snap.members.filter((m) => NOT_ANSWERED.has(m.status));
    els.progress.max = Math.max(total, 1);
    els.progress.value = snap.status === 'running' ? done : Math.max(total, 1);
    const parts = [];
    if (snap.status === 'running') {
      parts.push(h('strong.st-running', { i18n: ['status.searching'] }), ' ',
        T('status.progress', { done, total, hits: Math.max(s.hits, snap.progress.hits) }));
    } else {
      if (snap.status === 'interrupted') {
        parts.push(h('strong.st-failed', { i18n: ['status.interrupted'] }));
      } else if (snap.elapsed_ms !== undefined && snap.elapsed_ms !== null) {
        parts.push(h('strong.st-done', { i18n: ['status.doneIn', { elapsed: duration(snap.elapsed_ms) }] }));
      } else {
        parts.push(h('strong.st-done', { i18n: ['status.done'] }));
      }
      parts.push(' ', T('status.totals', { matched: s.matched, indicators: s.indicators, hits: s.hits }));
    }
    if (failed.length) parts.push(' ', h('strong.st-failed', { i18n: ['status.notAnswered', { n: failed.length }] }));
    if (snap.status !== 'running') {
      parts.push(' ', h('button#rerun.secondary', {
        type: 'button', i18n: ['search.rerun'],
        on: {
          click: async (e) => {
            const button = e.currentTarget;
            button.disabled = true;
            try {
              const started = await api.rerunSearch(snap.id || id);
              location.hash = `#/search/${encodeURIComponent(started.id)}`;
            } catch (err) {
              button.disabled = false;
              announce(err, 'error');
            }
          },
        },
      }));
    }
    clear(els.statusText, ...parts);
  }

  function updateMembers() {
    for (const m of snap.members) {
      const name = m.member;
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
      const final = ['done', 'failed', 'timed_out', 'skipped'].includes(status);
      row.body.className = `st-row-${status}`;
      clear(row.name,
        u(m.display_name || name, 'span.member-name'),
        m.display_name && m.display_name !== name ? u(name, 'span.mono.muted.small.member-id') : null);
      clear(row.status, statusBadge(status));
      if (m.hits === null) clear(row.hits, h('span.muted', { i18n: ['search.members.countsOnly'] }));
      else clear(row.hits, final || m.hits ? num(m.hits) : null);
      const timed = final && status !== 'skipped' && m.elapsed_ms !== null && m.elapsed_ms !== undefined;
      clear(row.time, timed ? duration(m.elapsed_ms) : null);
      clear(row.detail);
      if (m.error) {
        row.detail.append(h('span.sr-only', { i18n: ['search.members.reasonFor', { name: m.display_name || name }] }),
          u(m.error, 'span.member-error'));
      } else if (status === 'done' && m.relations && m.relations.length && m.relations.length < RELATIONS.length) {
        // a member that could not be asked for every relation (e.g. plain MISP)
        row.detail.append(h('span.muted.small', { i18n: ['search.members.onlyRelations', { list: m.relations.join(', ') }] }));
      }
      row.detailRow.hidden = !row.detail.hasChildNodes();
      row.body.classList.toggle('has-detail', !row.detailRow.hidden);
    }
  }

  function updateSummary() {
    const s = snap.summary;
    const table = (captionKey, obj, fmtKey) => {
      const entries = Object.entries(obj).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      return h('table.mini',
        h('caption', { i18n: [captionKey] }),
        h('tbody', entries.length
          ? entries.map(([k, n]) => h('tr', h('th', { scope: 'row' }, fmtKey(k)), h('td.num', num(n))))
          : h('tr', h('td.muted', { colspan: '2', i18n: ['common.none'] }))));
    };
    const memberName = (k) => {
      const m = snap.members.find((x) => x.member === k);
      return u(m && m.display_name ? m.display_name : k);
    };
    const total = (key, n) => h('div', h('dt', { i18n: [key] }), h('dd', num(n)));
    clear(els.summary,
      h('dl.totals',
        total('summary.indicators', s.indicators),
        total('summary.matched', s.matched),
        total('summary.hits', s.hits),
        total('summary.invalid', snap.invalidTotal)),
      h('div.mini-tables',
        table('summary.perMember', s.by_member, memberName),
        table('summary.perType', s.by_type, (k) => u(k, 'span.mono')),
        table('summary.perRelation', s.by_relation, (k) => relationBadge(k)),
        table('summary.perClass', s.by_class || {}, (k) => classBadge(k))),
      s.final ? null : h('p.muted.small', { i18n: ['summary.counting'] }));
  }

  function updateUnmatched() {
    clear(els.unmatched);
    if (snap.status === 'running' || !snap.unmatchedTotal) return;
    const none = snap.unmatched;
    const details = h('details.unmatched', { open: snap.unmatchedTotal <= UNMATCHED_OPEN_LIMIT },
      h('summary', { i18n: ['unmatched.summary', { n: snap.unmatchedTotal }] }),
      h('ul.plain-list', none.map((ind) => h('li',
        u(ind.value, 'span.mono'),
        ind.type ? u(ind.type, 'span.type-chip') : null))),
      snap.unmatchedTotal > none.length
        ? h('p.muted', { i18n: ['unmatched.more', { n: snap.unmatchedTotal - none.length }] })
        : null);
    els.unmatched.append(details);
  }

  function updateInvalid() {
    clear(els.invalid);
    els.invalid.hidden = snap.invalidTotal === 0;
    if (!snap.invalidTotal) return;
    append(els.invalid, [
      h('h2#invalid-h', { i18n: ['invalid.title', { n: snap.invalidTotal }] }),
      h('p.muted', { i18n: ['invalid.intro'] }),
      h('div.table-wrap', h('table.invalid-table',
        h('thead', h('tr', h('th', { scope: 'col', i18n: ['invalid.entry'] }), h('th', { scope: 'col', i18n: ['invalid.why'] }))),
        h('tbody', snap.invalid.map((x) => h('tr', u(x.value, 'td.mono'), u(x.error, 'td')))))),
      snap.invalidTotal > snap.invalid.length
        ? h('p.muted', { i18n: ['unmatched.more', { n: snap.invalidTotal - snap.invalid.length }] })
        : null]);
  }

  async function exportAs(format, button) {
    button.dataset.busy = '1';
    button.disabled = true;
    setText(button, 'export.preparing');
    try {
      const { filename, bytes } = await api.downloadExport(snap.id || id, format);
      announce({ key: 'export.done', args: { file: filename, bytes } });
    } catch (err) {
      announce(err, 'error');
    } finally {
      button.dataset.busy = '';
      button.disabled = false;
      setText(button, `export.${format}`);
    }
  }
}
