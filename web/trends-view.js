// Trends (#/trends): what the alliance's organisations reported seeing (POST /api/v1/sightings
// and shared sifts), from the four answers of GET /api/v1/trends/… (docs/trends.md):
//   sectors   per sector, a bar chart of sightings or distinct observables per bucket, by class
//   rising    sector × type cells far above their own baseline ("Watch rising trends" makes a
//             watchlist of them for the period shown: POST /api/v1/watchlists with "rising")
//   scanners  observables reported by at least min_orgs organisations
//   actors    threat actors named by the tags of member hits, with a chart per day
//
// k-anonymity: a cell from fewer than k organisations comes as {"suppressed": true} with no
// numbers. It is drawn as a hatched placeholder and written out as suppressed, never as a zero
// (which would be a number the portal did not give). No answer names a reporting organisation,
// and neither does this page.
//
//   #/trends?window=7d&bucket=1d&min_orgs=2&measure=sightings
// The controls keep that query up to date (without a navigation), so a reload or a link shows
// the same view; a value the selects do not offer is sent as it is and the API judges it.
//
// Every section loads on its own: one that fails shows its error and leaves the others alone.
// Charts are SVG built element by element (no library, no markup parsing), each in a <figure>
// with a caption and the same numbers as a table. Strings: `trends.` in the catalogs.

import * as api from './api.js';
import { h, clear, u } from './dom.js';
import { setAttr, setText, t, T } from './i18n.js';
import { classBadge, day, errorBox, num } from './ui.js';

const WINDOWS = ['7d', '30d', '90d'];
const BUCKETS = ['1d', '7d'];
const MIN_ORGS = ['2', '3', '5'];
const MEASURES = ['sightings', 'observables'];
const CLASSES = ['threat', 'noise', 'anonymizer', 'benign', 'unknown'];
const SCANNER_LIMIT = 100;
const DAY_MS = 86_400_000;

// ------------------------------------------------------------------ pure helpers (no DOM)

// The first day of every bucket of a window: "2026-03-01", … (the API lists only the buckets
// that have reports; the chart shows every one, so that a gap reads as a gap).
export function bucketStarts(from, windowDays, bucketDays) {
  const start = Date.parse(`${from}T00:00:00Z`);
  const step = Math.max(1, Number(bucketDays) || 1);
  const n = Math.ceil((Number(windowDays) || 0) / step);
  if (!Number.isFinite(start) || n <= 0) return [];
  return Array.from({ length: n }, (_, i) => new Date(start + i * step * DAY_MS).toISOString().slice(0, 10));
}

// A shown sector cell as a stacked bar: the classes shown on their own (in CLASSES order), and
// what the suppressed classes add up to, the total minus the shown parts. The API suppresses
// parts until that remainder comes from at least k organisations, so it may be shown.
export function barOf(cell, measure) {
  const total = Number(cell[measure]) || 0;
  const by = cell.by_class && typeof cell.by_class === 'object' ? cell.by_class : {};
  const names = Object.keys(by).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const parts = [];
  let shown = 0;
  let hidden = false;
  for (const cls of names) {
    if (by[cls].suppressed) {
      hidden = true;
      continue;
    }
    const value = Number(by[cls][measure]) || 0;
    parts.push({ cls, value });
    shown += value;
  }
  const rest = hidden ? Math.max(0, total - shown) : 0;
  // Distinct observables of several classes can overlap: the bar is never shorter than its parts.
  return { total, parts, rest, hidden, height: Math.max(total, shown + rest) };
}

function rank(cls) {
  const i = CLASSES.indexOf(cls);
  return i < 0 ? CLASSES.length : i;
}

// A p-value as "1 in n" (two significant digits): easier to weigh at 3 a.m. than 1.3e-4.
export function oneIn(p) {
  const v = Number(p);
  if (!(v > 0)) return { n: 1e12, below: 'yes' };
  const n = 1 / v;
  if (n >= 1e12) return { n: 1e12, below: 'yes' };
  return { n: Number(n.toPrecision(2)), below: 'no' };
}

// A period such as "7d" or "2w" in days, as the catalog's period message takes it ("7 days");
// a value that is not whole days or weeks stays as it is (the API judges it).
export function periodArgs(period) {
  const w = String(period ?? '');
  const m = /^(\d+)([dw])$/.exec(w);
  const days = m ? Number(m[1]) * (m[2] === 'w' ? 7 : 1) : 0;
  return { known: days > 0 ? 'yes' : 'no', days, window: w };
}

// ------------------------------------------------------------------ SVG

const SVG_NS = 'http://www.w3.org/2000/svg';
let chartCount = 0;  // ids of the charts' hatch patterns, unique in the page

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const c of children) if (c) el.appendChild(c);
  return el;
}

// A tooltip from the catalog (the <title> of an SVG element).
function svgTitle(key, args) {
  return setText(svg('title'), key, args);
}

// Stripes: the two kinds of hidden numbers lean opposite ways (and differ in weight), so they
// tell apart without colour.
function hatch(id, cls, angle) {
  return svg('pattern', { id, class: cls, patternUnits: 'userSpaceOnUse', width: 4, height: 4, patternTransform: `rotate(${angle})` },
    svg('rect', { class: 'hatch-bg', width: 4, height: 4 }),
    svg('line', { class: 'hatch-line', x1: 0, y1: 0, x2: 0, y2: 4 }));
}

// A bar chart: bars [{key: day, state: 'shown' | 'suppressed' | 'none', parts: [{cls, value}],
// rest, height}], one slot per bucket. Suppressed buckets are full-height hatched columns (no
// height to give them), the suppressed classes' remainder a hatched segment of its own; every
// bar says what it is in its tooltip. Positions are percentages of the SVG's box (no viewBox),
// so the hatching is not stretched at any width. Labels (the scale, the first and last day) sit
// around the SVG in HTML, so they keep their size; the table next to it has the numbers.
function barChart(bars, { label, measure, k }) {
  chartCount += 1;
  const hidden = `trends-hatch-${chartCount}`;
  const rest = `trends-rest-${chartCount}`;
  const slot = 100 / Math.max(1, bars.length);
  const pct = (v) => `${Math.round(v * 1000) / 1000}%`;
  const shown = bars.filter((b) => b.state === 'shown');
  const max = Math.max(1, ...shown.map((b) => b.height));
  const chart = svg('svg', { class: 'bar-chart', role: 'img', focusable: 'false' },
    svg('defs', {}, hatch(hidden, 'hatch-suppressed', 45), hatch(rest, 'hatch-rest', -45)));
  setAttr(chart, 'aria-label', label[0], label[1]);
  bars.forEach((b, i) => {
    const x = pct(i * slot + slot * 0.15);
    const width = pct(slot * 0.7);
    const g = svg('g', { class: `bar bar-${b.state}`, 'data-bucket': b.key });
    if (b.state === 'suppressed') {
      g.append(svg('rect', { class: 'bar-hidden', x, y: 0, width, height: '100%', fill: `url(#${hidden})` },
        svgTitle('trends.bar.suppressed', { d: b.key, k })));
    } else if (b.state === 'shown') {
      let top = 100;
      const segs = b.rest ? [...b.parts, { cls: 'withheld', value: b.rest }] : b.parts;
      for (const p of segs) {
        if (!p.value) continue;
        // at least a sliver, so that a small count next to a large one still shows
        const height = Math.max((p.value / max) * 100, 1.5);
        top -= height;
        g.append(svg('rect', {
          class: 'bar-seg', 'data-cls': p.cls, x, y: pct(top), width, height: pct(height),
          fill: p.cls === 'withheld' ? `url(#${rest})` : null,
        }, p.cls === 'total'
          ? svgTitle('trends.bar.total', { d: b.key, n: p.value })
          : svgTitle('trends.bar.part', { d: b.key, cls: p.cls, measure, n: p.value })));
      }
    }
    chart.append(g);
  });
  chart.append(svg('line', { class: 'chart-base', x1: 0, y1: '100%', x2: '100%', y2: '100%' }));
  const first = bars[0];
  const last = bars[bars.length - 1];
  return h('div.chart-frame',
    // no scale when nothing has a height (every bucket suppressed or without reports)
    h('div.chart-y', { 'aria-hidden': 'true' }, shown.length ? [num(max), num(0)] : null),
    h('div.chart-plot', chart,
      h('div.chart-x', { 'aria-hidden': 'true' }, first ? day(first.key) : null, last && last !== first ? day(last.key) : null)));
}

// The chart's key: a swatch and a word for each kind of bar it holds.
function legend(bars, k) {
  const classes = new Set();
  let rest = false;
  let hidden = false;
  for (const b of bars) {
    if (b.state === 'suppressed') hidden = true;
    if (b.state !== 'shown') continue;
    for (const p of b.parts) if (p.value && p.cls !== 'total') classes.add(p.cls);
    if (b.rest) rest = true;
  }
  const item = (cls, label) => h('li', h('span.swatch', { dataset: { cls }, 'aria-hidden': 'true' }), label);
  return h('ul.chart-legend',
    [...classes].sort((a, b) => rank(a) - rank(b)).map((c) => item(c, T('class.name', { cls: c }))),
    rest ? item('withheld', T('trends.legend.withheld', { k })) : null,
    hidden ? item('suppressed', T('trends.suppressed', { k })) : null);
}

// ------------------------------------------------------------------ table pieces

const range = (a) => ({ from: String(a.from ?? ''), to: String(a.to ?? '') });
const tableWrap = (labelledBy, table) => h('div.table-wrap', { tabindex: '0', role: 'region', 'aria-labelledby': labelledBy }, table);
// a column header from the catalog (not named th(): the catalog test reads h('…') as an element spec)
const colHead = (key, args = {}, cls = '') => h('th', { scope: 'col', class: cls, i18n: [key, args] });
const numCell = (col, n) => h('td.num', { dataset: { col } }, num(n));

// ------------------------------------------------------------------ the page

export function trendsView(query = '') {
  const params = new URLSearchParams(query);
  const opts = {
    window: params.get('window') || '7d',
    bucket: params.get('bucket') || '1d',
    minOrgs: params.get('min_orgs') || '2',
    measure: MEASURES.includes(params.get('measure')) ? params.get('measure') : 'sightings',
  };
  const inFlight = {};  // section -> AbortController of its request
  let sectorAnswer = null;  // redrawn when the measure changes, without asking again

  const title = h('h1', { tabindex: '-1', i18n: ['trends.title'] });
  const kLine = h('p#trends-k.note', { hidden: true });
  const sectors = section('sectors', 'trends.sectors.title', measureSwitch());
  const rising = section('rising', 'trends.rising.title',
    h('button#trends-watch-rising', { type: 'button', on: { click: () => watchRising() }, i18n: ['trends.watch.button'] }));
  const watchOut = h('div#trends-watch-out', { 'aria-live': 'polite' });
  rising.el.insertBefore(watchOut, rising.range);
  const scanners = section('scanners', 'trends.scanners.title',
    choice('trends-min-orgs', 'trends.scanners.minOrgs', MIN_ORGS, opts.minOrgs,
      (v) => h('option', { value: v, i18n: ['trends.scanners.minOrgs.option', { n: Number(v) }] }),
      (v) => { opts.minOrgs = v; loadScanners(); }));
  const actors = section('actors', 'trends.actors.title');
  const node = h('section.trends-page',
    h('div.page-head', title,
      h('div.head-actions', h('button#trends-reload', { type: 'button', on: { click: () => loadAll() }, i18n: ['common.refresh'] }))),
    h('p.hint', { i18n: ['trends.intro'] }),
    kLine,
    h('div.trends-controls',
      choice('trends-window', 'trends.window', WINDOWS, opts.window,
        (v) => h('option', { value: v, i18n: ['trends.window.option', { w: v }] }),
        (v) => { opts.window = v; loadAll(); }),
      choice('trends-bucket', 'trends.bucket', BUCKETS, opts.bucket,
        (v) => h('option', { value: v, i18n: ['trends.bucket.option', { b: v }] }),
        (v) => { opts.bucket = v; loadSectors(); })),
    sectors.el, rising.el, scanners.el, actors.el);

  loadAll();
  return { node, focus: title, cleanup: () => Object.values(inFlight).forEach((c) => c.abort()) };

  // -------------------------------------------------------------- frame

  function section(id, titleKey, ...tools) {
    const range = h('p.hint.trends-range');
    const body = h('div.trends-body', { 'aria-busy': 'true' });
    const el = h(`section#trends-${id}.panel.trends-section`, { 'aria-labelledby': `trends-${id}-h`, dataset: { state: 'loading' } },
      h('div.section-head', h(`h2#trends-${id}-h`, { i18n: [titleKey] }), tools),
      range, body);
    return { el, range, body };
  }

  // A labelled select; a value from the URL that it does not offer is kept as an option of its
  // own (marked as data: it is what the analyst typed).
  function choice(id, labelKey, values, current, option, onChange) {
    const select = h(`select#${id}`, values.map(option));
    if (!values.includes(current)) select.append(u(current, 'option'));
    select.value = current;
    select.addEventListener('change', () => {
      onChange(select.value);
      remember();
    });
    return h('div.field', h('label', { for: id, i18n: [labelKey] }), select);
  }

  function measureSwitch() {
    return h('div.segmented', { role: 'radiogroup', i18nAttrs: { 'aria-label': ['trends.measure'] } },
      MEASURES.map((m) => h('label.seg', { for: `trends-measure-${m}` },
        h('input', {
          type: 'radio', name: 'trends-measure', id: `trends-measure-${m}`, value: m, checked: opts.measure === m,
          on: {
            change: () => {
              opts.measure = m;
              remember();
              if (sectorAnswer) drawSectors(sectorAnswer);
            },
          },
        }),
        T('trends.measure.option', { m }))));
  }

  // The controls in the URL, without a navigation (replaceState fires no hashchange).
  function remember() {
    const q = new URLSearchParams({ window: opts.window, bucket: opts.bucket, min_orgs: opts.minOrgs, measure: opts.measure });
    history.replaceState(history.state, '', `#/trends?${q}`);
  }

  function noteK(k) {
    if (k === undefined || k === null) return;
    setText(kLine, 'trends.k', { k: Number(k) });
    kLine.hidden = false;
  }

  // One section's request: loading, then its drawing or its error; a newer request of the same
  // section (or leaving the page) aborts it.
  async function load(sec, kind, query, draw, whatKey) {
    const name = sec.el.id;
    if (inFlight[name]) inFlight[name].abort();
    const ctrl = new AbortController();
    inFlight[name] = ctrl;
    sec.el.dataset.state = 'loading';
    sec.body.setAttribute('aria-busy', 'true');
    clear(sec.range);
    clear(sec.body, h('p.muted', { i18n: ['trends.loading'] }));
    try {
      const answer = await api.trends(kind, query, ctrl.signal);
      if (ctrl.signal.aborted) return;
      draw(answer || {});
      sec.el.dataset.state = 'ready';
    } catch (err) {
      if (ctrl.signal.aborted) return;
      clear(sec.range);
      clear(sec.body, errorBox(err, whatKey));
      sec.el.dataset.state = 'error';
    } finally {
      if (!ctrl.signal.aborted) {
        sec.body.setAttribute('aria-busy', 'false');
        delete inFlight[name];
      }
    }
  }

  function loadAll() {
    loadSectors();
    load(rising, 'rising', { window: opts.window }, drawRising, 'trends.rising.cannotLoad');
    loadScanners();
    load(actors, 'actors', { window: opts.window }, drawActors, 'trends.actors.cannotLoad');
  }

  function loadSectors() {
    sectorAnswer = null;
    load(sectors, 'sectors', { window: opts.window, bucket: opts.bucket }, (a) => {
      sectorAnswer = a;
      drawSectors(a);
    }, 'trends.sectors.cannotLoad');
  }

  function loadScanners() {
    load(scanners, 'scanners', { window: opts.window, min_orgs: opts.minOrgs, limit: SCANNER_LIMIT }, drawScanners, 'trends.scanners.cannotLoad');
  }

  // -------------------------------------------------------------- sectors

  function drawSectors(a) {
    const k = Number(a.k_anonymity) || 0;
    noteK(a.k_anonymity);
    setText(sectors.range, 'trends.range', range(a));
    const cells = Array.isArray(a.cells) ? a.cells : [];
    if (!cells.length) {
      clear(sectors.body, h('p.empty', { i18n: ['trends.sectors.empty'] }));
      return;
    }
    const buckets = bucketStarts(a.from, a.window_days, a.bucket_days);
    const bySector = new Map();
    for (const c of cells) {
      const name = String(c.sector ?? '');
      if (!bySector.has(name)) bySector.set(name, new Map());
      bySector.get(name).set(String(c.bucket ?? ''), c);
    }
    // Busiest sector first; sectors with nothing to show after those that have numbers.
    const measure = opts.measure;
    const list = [...bySector].map(([name, byBucket]) => {
      const bars = buckets.map((key) => {
        const c = byBucket.get(key);
        if (!c) return { key, state: 'none' };
        if (c.suppressed) return { key, state: 'suppressed' };
        return { key, state: 'shown', cell: c, ...barOf(c, measure) };
      });
      const sum = bars.reduce((s, b) => s + (b.state === 'shown' ? b.total : 0), 0);
      return { name, bars, sum };
    }).sort((x, y) => y.sum - x.sum || x.name.localeCompare(y.name));
    // the tables the analyst opened stay open when the measure changes
    const open = new Set([...sectors.body.querySelectorAll('figure[data-sector]:has(details[open])')].map((f) => f.dataset.sector));
    const figures = list.map((s, i) => sectorFigure(s, i, { k, measure, bucketDays: Number(a.bucket_days) || 1 }));
    for (const f of figures) if (open.has(f.dataset.sector)) f.querySelector('details').open = true;
    clear(sectors.body, h('div.chart-grid', figures));
  }

  function sectorFigure({ name, bars }, i, { k, measure, bucketDays }) {
    const id = `trends-sector-${i}`;
    const shown = bars.filter((b) => b.state === 'shown').length;
    const hidden = bars.filter((b) => b.state === 'suppressed').length;
    let note = null;
    if (!shown) note = h('p.suppressed-note', { i18n: ['trends.sectors.allHidden', { k }] });
    else if (hidden) note = h('p.suppressed-note.small', { i18n: ['trends.sectors.someHidden', { n: hidden, k }] });
    return h('figure.trend-chart', { dataset: { sector: name, shown: String(shown) }, 'aria-labelledby': `${id}-h` },
      h('figcaption',
        h('h3', { id: `${id}-h` }, u(name)),
        h('p.small.muted', { i18n: ['trends.sectors.caption', { measure, bucket: bucketDays }] }),
        note),
      barChart(bars, { label: ['trends.sectors.chartLabel', { sector: name, measure, bucket: bucketDays }], measure, k }),
      legend(bars, k),
      sectorTable(bars, { id, name, k, measure, bucketDays }));
  }

  // The chart's numbers: one row per bucket, the totals, each class shown on its own, and the
  // suppressed classes together when there are any.
  function sectorTable(bars, { id, name, k, measure, bucketDays }) {
    const classes = new Set();
    let rest = false;
    for (const b of bars) {
      if (b.state !== 'shown') continue;
      for (const cls of Object.keys(b.cell.by_class || {})) classes.add(cls);
      if (b.hidden) rest = true;
    }
    const clsList = [...classes].sort((x, y) => rank(x) - rank(y));
    const cols = 4 + clsList.length + (rest ? 1 : 0);
    const rows = bars.map((b) => {
      const head = h('th', { scope: 'row' }, day(b.key));
      if (b.state === 'none') return h('tr', { dataset: { bucket: b.key, state: b.state } }, head, h('td.muted', { colspan: String(cols), i18n: ['trends.table.noReports'] }));
      if (b.state === 'suppressed') return h('tr.suppressed-row', { dataset: { bucket: b.key, state: b.state } }, head, h('td.suppressed', { colspan: String(cols), i18n: ['trends.suppressed', { k }] }));
      const c = b.cell;
      return h('tr', { dataset: { bucket: b.key, state: b.state } }, head,
        numCell('organisations', c.organisations), numCell('observables', c.observables),
        numCell('sightings', c.sightings), numCell('alerted', c.alerted),
        clsList.map((cls) => {
          const p = (c.by_class || {})[cls];
          if (!p) return h('td.num', { dataset: { col: cls } }, T('common.dash'));
          if (p.suppressed) return h('td.suppressed', { dataset: { col: cls }, i18n: ['trends.table.partHidden'] });
          return numCell(cls, p[measure]);
        }),
        rest ? (b.hidden ? numCell('withheld', b.rest) : h('td.num', { dataset: { col: 'withheld' } }, T('common.dash'))) : null);
    });
    return h('details.chart-table',
      h('summary', { i18n: ['trends.table.show'] }),
      tableWrap(`${id}-cap`, h('table.trend-table',
        h('caption', { id: `${id}-cap`, i18n: ['trends.table.caption', { name: u(name), k }] }),
        h('thead', h('tr',
          colHead('trends.table.bucket', { days: bucketDays }),
          colHead('trends.table.organisations', {}, 'num'), colHead('trends.table.observables', {}, 'num'),
          colHead('trends.table.sightings', {}, 'num'), colHead('trends.table.alerted', {}, 'num'),
          clsList.map((cls) => h('th.num', { scope: 'col', dataset: { cls }, i18n: ['trends.table.classPart', { cls: T('class.name', { cls }), measure }] })),
          rest ? colHead('trends.table.withheld', { measure }, 'num') : null)),
        h('tbody', rows))));
  }

  // -------------------------------------------------------------- rising

  function drawRising(a) {
    const k = Number(a.k_anonymity) || 0;
    noteK(a.k_anonymity);
    setText(rising.range, 'trends.rising.range', { ...range(a), windows: Number(a.baseline_windows) || 0, ...oneIn(a.p_value_below) });
    const cells = Array.isArray(a.cells) ? a.cells.filter((c) => !c.suppressed) : [];
    const hiddenCount = Number(a.suppressed) || 0;
    const hiddenNote = hiddenCount ? h('p#trends-rising-hidden.suppressed-note', { i18n: ['trends.rising.hidden', { n: hiddenCount, k }] }) : null;
    if (!cells.length) {
      clear(rising.body, h('p.empty', { i18n: ['trends.rising.empty'] }), hiddenNote);
      return;
    }
    clear(rising.body, tableWrap('trends-rising-h', h('table.trend-table.rising-table',
      h('thead', h('tr',
        colHead('trends.rising.sector'), colHead('trends.rising.type'), colHead('trends.table.organisations', {}, 'num'),
        colHead('trends.rising.observables', {}, 'num'), colHead('trends.rising.baseline', {}, 'num'),
        colHead('trends.rising.ratio', {}, 'num'), colHead('trends.rising.chance', {}, 'num'))),
      h('tbody', cells.map((c) => {
        const base = Number(c.baseline) || 0;
        const ratio = base > 0 ? Math.round((Number(c.observables) / base) * 10) / 10 : 0;
        return h('tr', { dataset: { sector: String(c.sector ?? ''), type: String(c.type ?? '') } },
          h('th', { scope: 'row' }, u(c.sector ?? '')),
          h('td', u(c.type ?? '', 'span.type-chip')),
          numCell('organisations', c.organisations),
          numCell('observables', c.observables),
          numCell('baseline', Math.round(base * 100) / 100),
          h('td.num', { dataset: { col: 'ratio' }, i18n: ['trends.rising.ratioValue', { r: ratio }] }),
          h('td.num', { dataset: { col: 'p' }, i18n: ['trends.rising.pValue', oneIn(c.p_value)] }));
      })))), hiddenNote);
  }

  // A watchlist of what rises in the period shown (every sector and type), run every hour; the
  // notice links to it. It outlives reloads of the section (it sits outside its body).
  async function watchRising() {
    const button = rising.el.querySelector('#trends-watch-rising');
    const name = t('trends.watch.name', { period: t('watch.rising.period', periodArgs(opts.window)) });
    button.disabled = true;
    clear(watchOut, h('p.muted', { i18n: ['trends.watch.adding'] }));
    try {
      const created = await api.createWatchlist({ name, rising: { window: opts.window }, interval: '1h' });
      const link = h('a#trends-watch-link', { href: `#/watchlist/${encodeURIComponent(created.id)}` }, u(name));
      clear(watchOut, h('p.note.watch-created', { i18n: ['trends.watch.created', { link }] }));
    } catch (err) {
      clear(watchOut, errorBox(err, 'watch.cannotCreate'));
    } finally {
      button.disabled = false;
    }
  }

  // -------------------------------------------------------------- scanners

  function drawScanners(a) {
    setText(scanners.range, 'trends.range', range(a));
    const list = Array.isArray(a.scanners) ? a.scanners : [];
    const minOrgs = Number(a.min_orgs) || Number(opts.minOrgs) || 2;
    if (!list.length) {
      clear(scanners.body, h('p.empty', { i18n: ['trends.scanners.empty', { n: minOrgs }] }));
      return;
    }
    const seen = (iso) => (iso ? h('time', { datetime: String(iso), i18n: ['fmt.datetime', { t: String(iso) }] }) : T('common.dash'));
    clear(scanners.body,
      h('p.small.muted', { i18n: ['trends.scanners.count', { n: list.length, min: minOrgs, limited: list.length >= SCANNER_LIMIT ? 'yes' : 'no' }] }),
      tableWrap('trends-scanners-h', h('table.trend-table.scanner-table',
        h('thead', h('tr',
          colHead('trends.scanners.value'), colHead('trends.rising.type'), colHead('trends.table.organisations', {}, 'num'),
          colHead('trends.scanners.sectors', {}, 'num'), colHead('trends.table.sightings', {}, 'num'), colHead('trends.table.alerted', {}, 'num'),
          colHead('trends.scanners.firstSeen'), colHead('trends.scanners.lastSeen'), colHead('trends.scanners.classes'), colHead('trends.scanners.members'))),
        h('tbody', list.map((s) => {
          const members = Array.isArray(s.members) ? s.members : [];
          const classes = Array.isArray(s.classes) ? s.classes : [];
          return h('tr', { dataset: { value: String(s.value ?? '') } },
            h('th', { scope: 'row' }, u(s.value ?? '', 'span.mono.scanner-value')),
            h('td', u(s.type ?? '', 'span.type-chip')),
            numCell('organisations', s.organisations),
            numCell('sectors', s.sectors),
            numCell('sightings', s.sightings),
            numCell('alerted', s.alerted),
            h('td.small.seen', seen(s.first_seen)),
            h('td.small.seen', seen(s.last_seen)),
            h('td', classes.length ? h('span.rel-list', classes.map((c) => classBadge(c))) : T('common.dash')),
            h('td', members.length ? h('ul.inline-list', members.map((m) => u(m, 'li'))) : h('span.muted', { i18n: ['common.none'] })));
        })))));
  }

  // -------------------------------------------------------------- actors

  function drawActors(a) {
    const k = Number(a.k_anonymity) || 0;
    noteK(a.k_anonymity);
    setText(actors.range, 'trends.actors.range', range(a));
    const list = Array.isArray(a.actors) ? a.actors : [];
    if (!list.length) {
      clear(actors.body, h('p.empty', { i18n: ['trends.actors.empty'] }));
      return;
    }
    const days = bucketStarts(a.from, a.window_days, 1);
    // Actors with numbers first (most organisations first), then the suppressed ones.
    const sorted = [...list].sort((x, y) => Number(Boolean(x.suppressed)) - Number(Boolean(y.suppressed)) ||
      (Number(y.organisations) || 0) - (Number(x.organisations) || 0) || String(x.actor).localeCompare(String(y.actor)));
    clear(actors.body, h('div.actor-cards', sorted.map((x, i) => actorCard(x, i, days, k))));
  }

  function actorCard(x, i, days, k) {
    const id = `trends-actor-${i}`;
    const name = String(x.actor ?? '');
    if (x.suppressed) {
      return h('article.actor-card.suppressed-card', { dataset: { actor: name, suppressed: 'true' }, 'aria-labelledby': `${id}-h` },
        h('h3', { id: `${id}-h` }, u(name)),
        h('p.suppressed-note',
          h('span', { 'aria-hidden': 'true', i18n: ['icon.status', { icon: '⊘' }] }), ' ',
          T('trends.actors.hidden', { k })));
    }
    const byDay = new Map((Array.isArray(x.days) ? x.days : []).map((d) => [String(d.day), d]));
    const bars = days.map((key) => {
      const d = byDay.get(key);
      if (!d) return { key, state: 'none' };
      if (d.suppressed) return { key, state: 'suppressed' };
      const n = Number(d.sightings) || 0;
      return { key, state: 'shown', parts: [{ cls: 'total', value: n }], rest: 0, height: n, day: d };
    });
    const infra = Array.isArray(x.infrastructure) ? x.infrastructure : [];
    const stat = (key, value) => h('div.stat', { dataset: { key } }, h('dt', { i18n: [key] }), num(value, 'dd'));
    return h('article.actor-card', { dataset: { actor: name }, 'aria-labelledby': `${id}-h` },
      h('h3', { id: `${id}-h` }, u(name)),
      h('dl.stats',
        stat('trends.table.organisations', x.organisations),
        stat('trends.actors.indicators', x.indicators),
        stat('trends.table.sightings', x.sightings)),
      h('figure.trend-chart.actor-chart',
        h('figcaption.small.muted', { i18n: ['trends.actors.caption'] }),
        barChart(bars, { label: ['trends.actors.chartLabel', { actor: name }], measure: 'sightings', k }),
        bars.some((b) => b.state === 'suppressed') ? legend(bars, k) : null,
        h('details.chart-table',
          h('summary', { i18n: ['trends.table.show'] }),
          tableWrap(`${id}-cap`, h('table.trend-table',
            h('caption', { id: `${id}-cap`, i18n: ['trends.table.caption', { name: u(name), k }] }),
            h('thead', h('tr', colHead('trends.table.bucket', { days: 1 }), colHead('trends.table.organisations', {}, 'num'), colHead('trends.table.sightings', {}, 'num'))),
            h('tbody', bars.filter((b) => b.state !== 'none').map((b) => h('tr', { dataset: { bucket: b.key, state: b.state } },
              h('th', { scope: 'row' }, day(b.key)),
              b.state === 'suppressed'
                ? h('td.suppressed', { colspan: '2', i18n: ['trends.suppressed', { k }] })
                : [numCell('organisations', b.day.organisations), numCell('sightings', b.day.sightings)]))))))),
      h('h4', { id: `${id}-infra`, i18n: ['trends.actors.infra', { k }] }),
      infra.length
        ? tableWrap(`${id}-infra`, h('table.trend-table.infra-table',
          h('thead', h('tr', colHead('trends.scanners.value'), colHead('trends.rising.type'), colHead('trends.table.organisations', {}, 'num'))),
          h('tbody', infra.map((v) => h('tr', { dataset: { value: String(v.value ?? '') } },
            h('th', { scope: 'row' }, u(v.value ?? '', 'span.mono.scanner-value')),
            h('td', u(v.type ?? '', 'span.type-chip')),
            numCell('organisations', v.organisations))))))
        : h('p.muted', { i18n: ['trends.actors.noInfra', { k }] }));
  }
}
