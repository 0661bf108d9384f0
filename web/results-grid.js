// The results of a search as one grid of hit rows, virtualised: only the rows in view (plus a
// margin) exist in the DOM, fetched from the results worker a chunk at a time, so 10^6 hits
// scroll like 10. Sorting (column headers) and filtering (text, member, relation, type, class,
// time gap; each option says how many rows it would show) are answered by the worker.
//
// Keyboard: `/` focuses the text filter, arrows / Page Up / Page Down / Home / End move in the
// grid, Enter opens the hit drawer (a dialog with everything about the hit), Escape closes it.

import { reputationBox, sightingButtons } from './continuity.js';
import { h, clear, u } from './dom.js';
import { setText, T, onLangChange } from './i18n.js';
import { CLASSES, RELATIONS, ROW_COUNTS, ROW_EXISTENCE, daysBetween, hitDay } from './model.js';
import { announce, classBadge, day, num, relationBadge } from './ui.js';

const CHUNK = 200;          // rows per request to the worker
const OVERSCAN = 12;        // rows drawn above and below the viewport
const COPY_LIMIT = 100_000; // rows copied as CSV at most (the exports hold everything)
const COLUMNS = ['indicator', 'member', 'relation', 'matched', 'type', 'class', 'event', 'gap', 'seen'];

export function createResultsGrid({ worker, memberLabel, searchId }) {
  const st = {
    filters: { text: '', member: '', relation: '', type: '', class: '', gap: '' },
    sort: { key: 'indicator', dir: 'asc' },
    gen: 0,            // bumps on every filter/sort/data change; replies of older gens are stale
    version: -1,       // the store version the rows belong to
    wantVersion: -1,   // the latest store version the worker reported
    genSeen: -1,
    total: 0,
    all: 0,
    facets: null,
    cache: new Map(),  // chunk -> rows[]
    stale: new Map(),  // previous gen's chunks, drawn until the new ones arrive (data changes only)
    pending: new Map(),
    active: -1,
    rowH: 0,
    seq: 0,
    csvWaiters: new Map(),
    lastSortSig: '',
    destroyed: false,
  };

  // ------------------------------------------------------------ DOM

  const filterInput = h('input#result-filter', {
    type: 'search', autocomplete: 'off', spellcheck: 'false', 'aria-keyshortcuts': '/',
    'aria-describedby': 'grid-help',
    i18nAttrs: { placeholder: ['results.filter.placeholder'] },
    on: { input: () => { st.filters.text = filterInput.value; changed(true); } },
  });
  const selects = {};
  const facetSelect = (facet) => {
    const sel = h(`select#f-${facet}`, { on: { change: () => { st.filters[facet] = sel.value; changed(true); } } });
    selects[facet] = sel;
    return h('div.facet', h('label', { for: `f-${facet}`, i18n: [`results.facet.${facet}`] }), sel);
  };
  const reset = h('button#filters-reset', {
    type: 'button', i18n: ['results.filter.reset'],
    on: {
      click: () => {
        st.filters = { text: '', member: '', relation: '', type: '', class: '', gap: '' };
        filterInput.value = '';
        changed(true);
        filterInput.focus();
      },
    },
  });
  const copyButton = h('button#copy-csv', { type: 'button', i18n: ['results.copyCsv'], on: { click: () => copyCsv() } });
  const count = h('p#results-count.results-count', { 'aria-live': 'polite' });
  const headCells = COLUMNS.map((c, k) => {
    const button = h('button.sort', {
      type: 'button', dataset: { sort: c },
      on: { click: () => sortBy(c) },
    }, T(`results.col.${c}`), h('span.sort-arrow', { 'aria-hidden': 'true' }));
    return h('div.cell', { role: 'columnheader', 'aria-colindex': String(k + 1), dataset: { col: c } }, button);
  });
  const body = h('div.grid-body', { role: 'rowgroup' });
  const grid = h('div#results-grid.grid', {
    role: 'grid', tabindex: '0', 'aria-labelledby': 'results-h', 'aria-describedby': 'grid-help',
    'aria-colcount': String(COLUMNS.length), 'aria-rowcount': '1',
    on: { keydown: onGridKey, scroll: () => schedule(), focus: onGridFocus },
  },
  h('div.grid-head', { role: 'rowgroup' }, h('div.grid-row.head', { role: 'row', 'aria-rowindex': '1' }, headCells)),
  body);
  const empty = h('p#results-empty.empty', { hidden: true });
  const drawerBody = h('div.drawer-body');
  const drawerTitle = h('h2#drawer-title.ioc');
  const drawer = h('dialog#hit-drawer.drawer', {
    'aria-labelledby': 'drawer-title',
    on: { close: () => grid.focus({ preventScroll: true }), click: (e) => { if (e.target === drawer) drawer.close(); } },
  },
  h('div.drawer-head', drawerTitle,
    h('button#drawer-close.link', { type: 'button', i18nAttrs: { 'aria-label': ['common.close'] }, on: { click: () => drawer.close() } },
      h('span', { 'aria-hidden': 'true', i18n: ['common.close.x'] }))),
  drawerBody);

  const node = h('section#results', { 'aria-labelledby': 'results-h' },
    h('div.results-head',
      h('h2#results-h', { i18n: ['results.title'] }),
      count,
      h('div.results-actions', copyButton)),
    h('div.filters', { role: 'search', i18nAttrs: { 'aria-label': ['results.filters'] } },
      h('div.facet.text-facet', h('label', { for: 'result-filter', i18n: ['results.filter'] }),
        h('div.with-kbd', filterInput, h('kbd', { 'aria-hidden': 'true', i18n: ['key.slash'] }))),
      ['member', 'relation', 'type', 'class', 'gap'].map(facetSelect),
      h('div.facet.reset-facet', reset)),
    h('p#grid-help.hint', { i18n: ['results.keys', {
      arrows: h('kbd', { i18n: ['key.arrows'] }), enter: h('kbd', { i18n: ['key.enter'] }), slash: h('kbd', { i18n: ['key.slash'] }),
    }] }),
    h('div.grid-wrap', grid),
    empty,
    drawer);

  const onSlash = (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (drawer.open) return;
    e.preventDefault();
    filterInput.focus();
    filterInput.select();
  };
  document.addEventListener('keydown', onSlash);
  const offLang = onLangChange(() => { drawRows(true); fillSelects(); updateCount(); });
  const onResize = () => { st.rowH = 0; schedule(); };
  window.addEventListener('resize', onResize);

  fillSelects();

  // ------------------------------------------------------------ worker traffic

  function post(msg) {
    worker.postMessage(msg);
  }

  function request(chunk) {
    if (st.cache.has(chunk) || st.pending.has(chunk)) return;
    st.seq += 1;
    st.pending.set(chunk, st.seq);
    post({ type: 'query', seq: st.seq, gen: st.gen, filters: st.filters, sort: st.sort, from: chunk * CHUNK, to: (chunk + 1) * CHUNK });
    st.seqGen = st.seqGen || new Map();
    st.seqGen.set(st.seq, st.gen);
  }

  function onMessage(m) {
    if (m.type === 'csv') {
      const w = st.csvWaiters.get(m.seq);
      if (w) {
        st.csvWaiters.delete(m.seq);
        w(m);
      }
      return;
    }
    const gen = st.seqGen && st.seqGen.get(m.seq);
    if (st.seqGen) st.seqGen.delete(m.seq);
    if (gen !== st.gen) return;  // an answer for filters or data that changed since
    const chunk = Math.floor(m.from / CHUNK);
    st.pending.delete(chunk);
    st.cache.set(chunk, m.rows);
    st.stale.delete(chunk);
    const firstOfGen = st.genSeen !== st.gen;
    st.genSeen = st.gen;
    st.total = m.total;
    st.all = m.all;
    st.version = m.version;
    st.facets = m.facets;
    if (firstOfGen) {
      fillSelects();
      grid.setAttribute('aria-rowcount', String(st.total + 1));
      body.style.height = `${st.total * rowHeight()}px`;
      if (st.active >= st.total) st.active = st.total - 1;
    }
    updateCount();
    drawRows(false);
    const sig = `${st.sort.key} ${st.sort.dir}`;
    if (m.rows.length && sig !== st.lastSortSig) {
      st.lastSortSig = sig;
      grid.dataset.sorted = sig;
      performance.mark(`iocgrid:rows ${sig}`);
    }
    if (m.rows.length && !grid.dataset.firstRows) {
      grid.dataset.firstRows = '1';
      performance.mark('iocgrid:first-rows');
    }
  }

  // Called by the page with every state of the search.
  function update({ rowsVersion, running }) {
    st.running = running;
    if (rowsVersion !== st.wantVersion) {
      // new rows (a member answered, or the final document): keep drawing the old rows until the
      // new ones arrive, so nothing flickers
      st.wantVersion = rowsVersion;
      newGen(false);
    }
  }

  function newGen(clearView) {
    st.gen += 1;
    st.stale = clearView ? new Map() : new Map([...st.stale, ...st.cache]);
    st.cache = new Map();
    st.pending = new Map();
    const first = Math.floor(viewTop() / Math.max(1, rowHeight()));
    request(Math.floor(Math.max(0, first) / CHUNK));
    schedule();
  }

  function changed(filtersChanged) {
    if (filtersChanged) {
      st.active = -1;
      grid.scrollTop = 0;
      grid.removeAttribute('aria-activedescendant');
    }
    newGen(true);
  }

  function sortBy(key) {
    if (st.sort.key === key) st.sort = { key, dir: st.sort.dir === 'asc' ? 'desc' : 'asc' };
    else st.sort = { key, dir: 'asc' };
    for (const c of headCells) {
      const on = c.dataset.col === st.sort.key;
      if (on) c.setAttribute('aria-sort', st.sort.dir === 'asc' ? 'ascending' : 'descending');
      else c.removeAttribute('aria-sort');
      const arrow = c.querySelector('.sort-arrow');
      if (on) setText(arrow, st.sort.dir === 'asc' ? 'results.sort.asc' : 'results.sort.desc');
      else clear(arrow);
    }
    performance.mark(`iocgrid:sort ${st.sort.key} ${st.sort.dir}`);
    changed(false);
  }

  // ------------------------------------------------------------ drawing

  function rowHeight() {
    if (!st.rowH) {
      const probe = h('div.grid-row.probe', { 'aria-hidden': 'true' }, h('div.cell', u('x')));
      body.append(probe);
      st.rowH = Math.max(24, probe.getBoundingClientRect().height);
      probe.remove();
      if (st.total) body.style.height = `${st.total * st.rowH}px`;
    }
    return st.rowH;
  }

  function viewTop() {
    return grid.scrollTop;
  }

  function viewHeight() {
    const head = grid.querySelector('.grid-head');
    return Math.max(0, grid.clientHeight - (head ? head.offsetHeight : 0));
  }

  let raf = 0;
  function schedule() {
    if (!raf) raf = requestAnimationFrame(() => { raf = 0; drawRows(false); });
  }

  const drawn = new Map();  // pos -> {el, row}

  function rowAt(pos) {
    const c = Math.floor(pos / CHUNK);
    const rows = st.cache.get(c) || st.stale.get(c);
    return rows ? rows[pos - c * CHUNK] || null : null;
  }

  function drawRows(force) {
    if (st.destroyed) return;
    const rh = rowHeight();
    const first = Math.max(0, Math.floor(viewTop() / rh) - OVERSCAN);
    const last = Math.min(st.total, Math.ceil((viewTop() + viewHeight()) / rh) + OVERSCAN);
    for (let c = Math.floor(first / CHUNK); c * CHUNK < last; c += 1) request(c);
    for (const [pos, d] of drawn) {
      if (pos < first || pos >= last) {
        d.el.remove();
        drawn.delete(pos);
      }
    }
    for (let pos = first; pos < last; pos += 1) {
      const row = rowAt(pos);
      let d = drawn.get(pos);
      if (d && d.row === row && !force) {
        d.el.classList.toggle('active', pos === st.active);
        d.el.setAttribute('aria-selected', pos === st.active ? 'true' : 'false');
        continue;
      }
      const el = row ? rowEl(row, pos) : placeholderEl(pos);
      el.style.transform = `translateY(${pos * rh}px)`;
      if (d) d.el.replaceWith(el);
      else body.append(el);
      d = { el, row };
      drawn.set(pos, d);
    }
    empty.hidden = st.total > 0 || st.facets === null;
    if (!empty.hidden) {
      const filtered = Object.values(st.filters).some(Boolean);
      setText(empty, st.running ? 'results.waiting' : filtered ? 'results.noneFiltered' : 'results.none');
    }
    if (st.active >= 0 && drawn.has(st.active)) grid.setAttribute('aria-activedescendant', `hr-${st.active}`);
    else grid.removeAttribute('aria-activedescendant');
  }

  function placeholderEl(pos) {
    return h('div.grid-row.placeholder', { role: 'row', id: `hr-${pos}`, 'aria-rowindex': String(pos + 2), 'aria-busy': 'true', dataset: { pos: String(pos) } },
      h('div.cell', { role: 'gridcell', 'aria-colindex': '1', i18n: ['results.loadingRow'] }));
  }

  function rowEl(r, pos) {
    const cell = (k, ...content) => h('div.cell', { role: 'gridcell', 'aria-colindex': String(k + 1), dataset: { col: COLUMNS[k] } }, ...content);
    const withheld = () => h('span.muted', { i18n: ['results.withheld'] });
    let cells;
    if (r.kind === ROW_COUNTS) {
      cells = [
        cell(0, u(r.value, 'span.mono.ioc-value')),
        cell(1, h('span.muted', { i18n: ['results.countsOnly', { n: r.count }] })),
        cell(2), cell(3), cell(4), cell(5), cell(6), cell(7), cell(8),
      ];
    } else {
      const existence = r.kind === ROW_EXISTENCE;
      const seen = r.lastSeen || r.firstSeen || r.eventDate;
      cells = [
        cell(0, u(r.value, 'span.mono.ioc-value')),
        cell(1, u(memberLabel(r.member) || r.display, 'span.member-name')),
        cell(2, relationBadge(r.relation)),
        cell(3, existence ? withheld() : u(r.matched, 'span.mono')),
        cell(4, existence ? null : u(r.type, 'span.type-chip')),
        cell(5, classBadge(r.class)),
        cell(6, existence ? null : u(r.eventInfo)),
        cell(7, r.gap ? h('span.gap-marker', { i18n: ['results.gapMarker'] }) : null),
        cell(8, seen ? day(seen) : null),
      ];
    }
    const el = h('div.grid-row', {
      role: 'row', id: `hr-${pos}`, 'aria-rowindex': String(pos + 2), class: r.gap ? 'gap' : '',
      'aria-selected': pos === st.active ? 'true' : 'false', dataset: { pos: String(pos), i: String(r.i) },
      on: { click: () => { setActive(pos, false); openDrawer(pos); } },
    }, cells);
    if (pos === st.active) el.classList.add('active');
    return el;
  }

  function updateCount() {
    if (st.facets === null) {
      setText(count, 'results.counting');
      return;
    }
    const filtered = Object.values(st.filters).some(Boolean);
    if (filtered) setText(count, 'results.countFiltered', { shown: st.total, all: st.all });
    else setText(count, 'results.count', { all: st.all });
  }

  function fillSelects() {
    const f = st.facets || {};
    for (const facet of ['member', 'relation', 'type', 'class', 'gap']) {
      const sel = selects[facet];
      const counts = f[facet] || {};
      let values = Object.keys(counts);
      if (facet === 'relation') values = RELATIONS.filter((r) => r in counts || st.filters.relation === r);
      else if (facet === 'class') values = CLASSES.filter((c) => c in counts || st.filters.class === c);
      else if (facet === 'gap') values = ['gap', 'nogap'];
      else values.sort((a, b) => String(facet === 'member' ? memberLabel(a) : a).localeCompare(String(facet === 'member' ? memberLabel(b) : b)));
      const chosen = st.filters[facet];
      if (chosen && !values.includes(chosen)) values.push(chosen);
      const opts = [h('option', { value: '', i18n: ['results.facet.all'] })];
      for (const v of values) {
        const label = facet === 'member' ? u(memberLabel(v))
          : facet === 'relation' ? T('relation.name', { rel: v })
            : facet === 'class' ? T('class.name', { cls: v })
              : facet === 'gap' ? T(`results.facet.gap.${v}`)
                : v ? u(v) : T('results.facet.noType');
        // an <option> holds text only: the label's text goes into the counted message
        opts.push(h('option', { value: v, i18n: ['results.facet.option', { label: label.textContent, n: counts[v] || 0 }] }));
      }
      sel.replaceChildren(...opts);
      sel.value = chosen;
    }
  }

  // ------------------------------------------------------------ keyboard and focus

  function onGridFocus() {
    if (st.active < 0 && st.total > 0) setActive(Math.min(st.total - 1, Math.floor(viewTop() / rowHeight())), true);
  }

  function setActive(pos, scroll) {
    if (!st.total) return;
    st.active = Math.max(0, Math.min(st.total - 1, pos));
    if (scroll) {
      const rh = rowHeight();
      const top = st.active * rh;
      if (top < viewTop()) grid.scrollTop = top;
      else if (top + rh > viewTop() + viewHeight()) grid.scrollTop = top + rh - viewHeight();
    }
    drawRows(false);
  }

  function onGridKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const page = Math.max(1, Math.floor(viewHeight() / rowHeight()) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) {
      e.preventDefault();
      setActive((st.active < 0 ? 0 : st.active + moves[e.key]), true);
    } else if (e.key === 'Home') {
      e.preventDefault();
      setActive(0, true);
    } else if (e.key === 'End') {
      e.preventDefault();
      setActive(st.total - 1, true);
    } else if (e.key === 'Enter' || e.key === ' ') {
      if (st.active >= 0) {
        e.preventDefault();
        openDrawer(st.active);
      }
    }
  }

  // ------------------------------------------------------------ the hit drawer

  function openDrawer(pos) {
    const r = rowAt(pos);
    if (!r) return;
    clear(drawerTitle, u(r.value));
    clear(drawerBody, ...drawerContent(r));
    if (!drawer.open) drawer.showModal();
    drawer.querySelector('#drawer-close').focus();
  }

  function drawerContent(r) {
    const fact = (key, ...value) => h('div', h('dt', { i18n: [key] }), h('dd', ...value));
    const out = [];
    out.push(h('p.ioc-facts',
      r.indType ? u(r.indType, 'span.type-chip') : null,
      h('span.heldby', { i18n: ['drawer.heldBy', { held: h('strong', num(r.heldBy)), total: r.membersTotal }] }),
      r.normalized && r.normalized !== r.value ? h('span.muted.small', { i18n: ['drawer.searchedAs', { value: u(r.normalized, 'span.mono') }] }) : null,
      r.indDate ? h('span.muted.small', { i18n: ['drawer.dated', { d: day(r.indDate) }] }) : null));
    if (r.kind === ROW_COUNTS) {
      out.push(h('p.note', { i18n: ['drawer.countsOnly', { n: r.count }] }));
      return out;
    }
    out.push(h('h3', { i18n: ['drawer.member'] }), h('dl.facts',
      fact('drawer.memberName', u(memberLabel(r.member) || r.display), ' ', u(r.member, 'span.mono.muted.small')),
      r.sector ? fact('members.sector', u(r.sector)) : null,
      fact('results.col.class', classBadge(r.class)),
      fact('members.disclosure', T('members.disclosure.value', { level: r.disclosure || 'full' }))));
    out.push(h('h3', { i18n: ['drawer.match'] }), h('dl.facts',
      fact('results.col.relation', relationBadge(r.relation), ' ', h('span.muted.small', { i18n: [`relation.help.${r.relation}`] }))));
    if (r.kind === ROW_EXISTENCE) {
      out.push(h('p.note.withheld-note', { i18n: ['drawer.existenceOnly'] }));
      return out;
    }
    const dash = () => T('common.dash');
    out[out.length - 1].append(
      fact('drawer.matched', u(r.matched, 'span.mono.matched')),
      fact('drawer.type', u(r.type, 'span.type-chip'), r.category ? h('span.block.muted.small', u(r.category)) : null),
      fact('drawer.ids', T(r.toIds ? 'drawer.ids.yes' : 'drawer.ids.no')));
    out.push(h('h3', { i18n: ['drawer.event'] }), h('dl.facts',
      fact('drawer.eventInfo', r.eventInfo ? u(r.eventInfo) : dash()),
      fact('drawer.eventDate', r.eventDate ? day(r.eventDate) : dash()),
      r.eventUuid ? fact('drawer.eventUuid', u(r.eventUuid, 'span.mono.small')) : null,
      fact('drawer.tags', r.tags.length ? h('span.tag-list', r.tags.map((t) => u(t, 'span.tag'))) : dash()),
      fact('drawer.firstSeen', r.firstSeen ? day(r.firstSeen) : dash()),
      fact('drawer.lastSeen', r.lastSeen ? day(r.lastSeen) : dash()),
      r.comment ? fact('drawer.comment', u(r.comment)) : null));
    out.push(h('h3', { i18n: ['drawer.timeGap'] }), timeGap(r));
    // Sightings back to the member, and the value's reputation across the alliance (issue 11).
    if (searchId) {
      out.push(h('h3', { i18n: ['sight.title'] }), h('p.muted.small', { i18n: ['sight.help', { member: u(r.member) }] }),
        sightingButtons(searchId(), [{ i: r.i, member: r.member }], { idPrefix: 'drawer-sight' }));
    }
    out.push(h('h3', { i18n: ['rep.title'] }), reputationBox(r.normalized || r.value, r.indType));
    return out;
  }

  function timeGap(r) {
    const hd = hitDay(r);
    const which = hd === (r.lastSeen || '').slice(0, 10) ? 'last' : hd === (r.firstSeen || '').slice(0, 10) ? 'first' : 'event';
    const limit = r.timeGapDays ?? 365;
    if (!r.indDate) return h('p.muted', { i18n: ['drawer.gap.noDate', { limit }] });
    if (!hd) return h('p.muted', { i18n: ['drawer.gap.noHitDate'] });
    const days = daysBetween(r.indDate, hd);
    if (r.gap) {
      return h('p.gap-explain', h('span.gap-marker', { i18n: ['results.gapMarker'] }), ' ',
        T('drawer.gap.explain', { ind: day(r.indDate), hit: day(hd), which, days: days ?? 0, limit }));
    }
    return h('p', { i18n: ['drawer.gap.within', { ind: day(r.indDate), hit: day(hd), which, days: days ?? 0, limit }] });
  }

  // ------------------------------------------------------------ copy as CSV

  function copyCsv() {
    st.seq += 1;
    const seq = st.seq;
    copyButton.disabled = true;
    st.csvWaiters.set(seq, async (m) => {
      copyButton.disabled = false;
      try {
        await writeClipboard(m.text);
        if (m.rows < m.total && m.rows >= COPY_LIMIT) announce({ key: 'results.copiedSome', args: { rows: m.rows, total: m.total } });
        else announce({ key: 'results.copied', args: { rows: m.rows } });
      } catch {
        announce({ key: 'results.copyFailed', args: {} }, 'error');
      }
    });
    post({ type: 'csv', seq, filters: st.filters, sort: st.sort, limit: COPY_LIMIT });
  }

  return {
    node,
    onMessage,
    update,
    destroy() {
      st.destroyed = true;
      document.removeEventListener('keydown', onSlash);
      window.removeEventListener('resize', onResize);
      offLang();
      if (drawer.open) drawer.close();
    },
  };
}

async function writeClipboard(text) {
  if (navigator.clipboard && navigator.clipboard.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      /* not allowed here: the selection fallback below */
    }
  }
  const area = h('textarea.sr-only', { 'aria-hidden': 'true', tabindex: '-1' });
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy');
}
