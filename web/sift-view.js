// "Sift a log": upload a web server, WAF/IDS, Zeek or firewall log to POST /api/v1/sifts (the
// portal parses it as it arrives and keeps only its distinct observables), then the report of
// GET /api/v1/sifts/{id}: summary, the four alert cells, the share of lines and clients per
// class, the top observables per class with their member hits, and the search behind it.
//
//   #/sift        the upload form
//   #/sift/ID     one sift's report (polled while its search runs)
//
// Every visible string is a catalog entry under `sift.` (web/i18n/*.json); values from the log
// or the server are marked as data (u()).

import * as api from './api.js';
import { h, clear, u } from './dom.js';
import { setText, T } from './i18n.js';
import { classBadge, errorBox, msg, num, relationBadge, statusBadge, when } from './ui.js';

const CLASSES = ['threat', 'noise', 'anonymizer', 'benign', 'unknown'];
const CELLS = ['alerted_threat', 'alerted_noise', 'alerted_unknown', 'not_alerted_threat_or_anonymizer'];
const FORMATS = ['combined', 'common', 'json', 'eve', 'modsec', 'zeek', 'csv'];

// part / whole as a fraction for {p, number, percent}; null when there is no whole.
export function fraction(part, whole) {
  const p = Number(part ?? 0);
  const w = Number(whole ?? 0);
  return w > 0 ? p / w : null;
}

function share(part, whole, tag = 'span') {
  const f = fraction(part, whole);
  return f === null ? T('common.dash', {}, tag) : T('sift.percent', { p: f }, tag);
}

// A byte count with its binary unit ("1.5 MiB").
function bytes(n) {
  const v = Number(n ?? 0);
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]]) {
    if (v >= size) return T('sift.bytes', { n: Math.round((v / size) * 10) / 10, unit });
  }
  return T('sift.bytes', { n: v, unit: 'B' });
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

// ------------------------------------------------------------------ upload form

export function renderSiftForm() {
  const ctrl = new AbortController();
  const file = h('input#sift-file', { type: 'file', required: true, 'aria-describedby': 'sift-intro' });
  const label = h('input#sift-label', {
    type: 'text', maxlength: '200', autocomplete: 'off',
    i18nAttrs: { placeholder: ['sift.form.labelPlaceholder'] },
  });
  const format = h('select#sift-format',
    h('option', { value: '', i18n: ['sift.form.formatAuto'] }),
    FORMATS.map((f) => h('option', { value: f, i18n: ['sift.format', { format: f }] })));
  const shared = h('input#sift-shared', { type: 'checkbox' });
  const bar = h('progress#sift-progress', { max: '1', value: '0', hidden: true, i18nAttrs: { 'aria-label': ['sift.upload.progress'] } });
  const sentLine = h('p#sift-sent.hint', { 'aria-live': 'polite' });
  const parsedLine = h('p#sift-parsed.hint', { 'aria-live': 'polite' });
  const formError = h('div#sift-error', { 'aria-live': 'assertive' });
  const submit = h('button#sift-submit.primary', { type: 'submit', i18n: ['sift.form.submit'] });
  const title = h('h1', { tabindex: '-1', i18n: ['sift.form.title'] });
  const node = h('form.card.sift-form', { novalidate: true, on: { submit: (e) => { e.preventDefault(); upload(); } } },
    title,
    h('p#sift-intro.hint', { i18n: ['sift.form.intro'] }),
    h('div.field', h('label', { for: 'sift-file', i18n: ['sift.form.file'] }), file),
    h('div.grid4',
      h('div.field', h('label', { for: 'sift-label', i18n: ['sift.form.label'] }), label),
      h('div.field', h('label', { for: 'sift-format', i18n: ['sift.form.format'] }), format)),
    h('label.check', { for: 'sift-shared' }, shared, ' ', T('sift.form.shared')),
    formError,
    h('div.actions', submit),
    bar, sentLine, parsedLine);

  async function upload() {
    clear(formError);
    const f = file.files && file.files[0];
    if (!f) {
      formError.append(errorBox(msg('sift.form.noFile'), 'sift.form.cannotStart'));
      file.focus();
      return;
    }
    const params = new URLSearchParams();
    const name = label.value.trim() || f.name;
    params.set('label', name);
    if (format.value) params.set('format', format.value);
    if (shared.checked) params.set('shared', 'true');
    submit.disabled = true;
    setText(submit, 'sift.form.uploading');
    bar.hidden = false;
    const watcher = watchServer(name);
    try {
      const created = await api.uploadSift(f, params.toString(), (sent, total) => {
        bar.value = total ? sent / total : 0;
        setText(sentLine, 'sift.upload.sent', { sent: bytes(sent), total: bytes(total), percent: share(sent, total) });
        if (total && sent >= total) setText(parsedLine, 'sift.upload.waiting');
      });
      location.hash = `#/sift/${encodeURIComponent(created.id)}`;
    } catch (err) {
      formError.append(errorBox(err, 'sift.form.failed'));
      submit.disabled = false;
      setText(submit, 'sift.form.submit');
    } finally {
      watcher.abort();
    }
  }

  // While the upload runs: what the portal has parsed so far (GET /sifts lists it as uploading).
  function watchServer(name) {
    const stop = new AbortController();
    ctrl.signal.addEventListener('abort', () => stop.abort());
    (async () => {
      while (!stop.signal.aborted) {
        await sleep(400, stop.signal);
        if (stop.signal.aborted) return;
        try {
          const list = await api.listSifts();
          const mine = Array.isArray(list) && list.find((s) => s.status === 'uploading' && s.label === name);
          if (mine && mine.progress && !stop.signal.aborted) {
            setText(parsedLine, 'sift.upload.parsed', { lines: Number(mine.progress.lines) || 0, observables: Number(mine.progress.observables) || 0 });
          }
        } catch {
          /* progress is a courtesy: the upload goes on */
        }
      }
    })();
    return stop;
  }

  return { node, focus: title, cleanup: () => ctrl.abort() };
}

// ------------------------------------------------------------------ report

export function renderSiftReport(id) {
  const ctrl = new AbortController();
  const title = h('h1#sift-title', { tabindex: '-1', i18n: ['sift.report.title'] });
  const node = h('section.sift', { 'aria-busy': 'true' }, h('div.page-head', title), h('p.muted', { i18n: ['sift.report.loading'] }));
  load();
  return { node, focus: title, cleanup: () => ctrl.abort() };

  async function load() {
    for (let attempt = 0; !ctrl.signal.aborted; attempt += 1) {
      let report;
      try {
        report = await api.getSift(id, ctrl.signal);
      } catch (err) {
        if (ctrl.signal.aborted) return;
        setText(title, 'sift.report.unavailable');
        clear(node, h('div.page-head', title), errorBox(err, 'sift.report.cannotOpen'),
          h('p', h('a', { href: '#/sift', i18n: ['sift.report.back'] })));
        node.setAttribute('aria-busy', 'false');
        return;
      }
      if (ctrl.signal.aborted) return;
      draw(report);
      const running = report.status === 'searching' || report.status === 'uploading';
      node.setAttribute('aria-busy', running ? 'true' : 'false');
      if (!running) return;
      await sleep(Math.min(1000, 250 + attempt * 100), ctrl.signal);
    }
  }

  function draw(r) {
    clear(title);
    title.removeAttribute('data-i18n');
    if (r.label) title.append(u(r.label));
    else setText(title, 'sift.report.title');
    const s = r.summary || {};
    const status = statusBadge(r.status);
    status.id = 'sift-status';
    status.dataset.status = String(r.status ?? '');
    clear(node,
      h('div.page-head', title, status),
      h('p.muted', { i18n: ['sift.report.meta', {
        owner: u(r.owner ?? ''), created: when(r.created) || T('common.dash'), format: u(s.format || '?', 'span.mono'), bytes: bytes(s.bytes),
      }] }),
      statusLine(r),
      summary(s),
      cells(r.alert_cells || {}, s),
      classes(s),
      CLASSES.map((c) => top(c, (r.top && r.top[c]) || [])));
  }

  function statusLine(r) {
    const search = r.search;
    const members = (search && Array.isArray(search.members)) ? search.members : [];
    let line;
    if (!search) line = ['sift.report.statusNoSearch', {}];
    else if (r.status === 'searching') {
      const p = search.progress || {};
      line = ['sift.report.statusSearching', { done: Number(p.members_done) || 0, total: Number(p.members_total) || 0 }];
    } else if (r.status === 'interrupted') line = ['sift.report.statusInterrupted', {}];
    else line = ['sift.report.statusDone', { answered: members.filter((m) => m.status === 'done').length, total: members.length }];
    return h('div.statusline',
      h('p#sift-statusline.status-text', { role: 'status', i18n: line }),
      search ? h('a#sift-search-link.button', { href: `#/search/${encodeURIComponent(search.id)}`, i18n: ['sift.report.openSearch'] }) : null);
  }

  function summary(s) {
    const keys = ['lines', 'parsed', 'malformed', 'cut', 'internal', 'observables', 'clients', 'alerts'];
    const examples = Array.isArray(s.malformed_examples) ? s.malformed_examples : [];
    return h('section#sift-summary.panel', { 'aria-labelledby': 'sift-summary-h' },
      h('h2#sift-summary-h', { i18n: ['sift.summary.title'] }),
      h('dl.stats', keys.map((key) => h('div.stat', { dataset: { key } },
        h('dt', { i18n: [`sift.summary.${key}`] }), num(s[key], 'dd')))),
      examples.length
        ? h('ul.small.muted', examples.map((m) => h('li', { i18n: ['sift.summary.malformedLine', { line: Number(m.line) || 0, reason: u(m.reason ?? '') }] })))
        : null);
  }

  function cells(c, s) {
    return h('section#sift-cells.panel', { 'aria-labelledby': 'sift-cells-h' },
      h('h2#sift-cells-h', { i18n: ['sift.cells.title'] }),
      Number(s.alerts ?? 0) === 0 ? h('p.hint', { i18n: ['sift.cells.noAlerts'] }) : null,
      h('div.cells', CELLS.map((key) => h('div.cell', { dataset: { cell: key } },
        cellNum(c[key]), h('span.cell-label', { i18n: [`sift.cells.${key}`] })))));
  }

  function cellNum(n) {
    const el = num(n);
    el.classList.add('cell-num', 'num');
    return el;
  }

  function classes(s) {
    const by = s.by_class || {};
    const td = (el) => {
      const cell = h('td.num');
      cell.append(el);
      return cell;
    };
    return h('section#sift-classes.panel', { 'aria-labelledby': 'sift-classes-h' },
      h('h2#sift-classes-h', { i18n: ['sift.classes.title'] }),
      h('div.table-wrap', { tabindex: '0', role: 'region', i18nAttrs: { 'aria-label': ['sift.classes.title'] } }, h('table.class-table',
        h('thead', h('tr', ['class', 'observables', 'clients', 'clientShare', 'lines', 'lineShare'].map((k) => h('th', { scope: 'col', i18n: [`sift.classes.${k}`] })))),
        h('tbody', CLASSES.map((c) => {
          const x = by[c] || {};
          return h('tr', { dataset: { class: c } },
            h('th', { scope: 'row' }, classBadge(c)),
            td(num(x.observables)),
            td(num(x.clients)),
            td(share(x.clients, s.clients)),
            td(num(x.lines)),
            td(share(x.lines, s.lines)));
        })))));
  }

  function top(cls, list) {
    return h('section.panel.sift-top', { dataset: { class: cls } },
      h('h2', { i18n: ['sift.top.title', { cls }] }),
      list.length === 0 ? h('p.muted', { i18n: ['sift.top.none'] }) : h('div.table-wrap', {
        tabindex: '0', role: 'region', i18nAttrs: { 'aria-label': ['sift.top.title', { cls }] },
      }, h('table',
        h('thead', h('tr', ['value', 'field', 'lines', 'alerts', 'seen', 'hits'].map((k) => h('th', { scope: 'col', i18n: [`sift.top.${k}`] })))),
        h('tbody', list.map((o) => h('tr', { dataset: { value: String(o.value ?? '') } },
          u(o.value ?? '', 'td.ioc.mono'),
          u(o.field ?? '', 'td'),
          h('td.num', num(o.lines)),
          h('td.num', num(o.alerts)),
          h('td.nowrap.small', seen(o)),
          h('td', hits(o.hits || []))))))));
  }

  function seen(o) {
    if (!o.first_seen && !o.last_seen) return T('common.dash');
    return T('sift.top.seenRange', { first: u(o.first_seen || '?'), last: u(o.last_seen || '?') });
  }

  function hits(list) {
    if (list.length === 0) return h('span.muted', { i18n: ['sift.top.noHits'] });
    return h('details.hits-detail',
      h('summary', { i18n: ['sift.top.hitCount', { n: list.length }] }),
      h('ul.small', list.map((x) => h('li', { i18n: ['sift.hit.line', {
        member: u(x.member ?? x.source ?? ''), relation: relationBadge(x.relation ?? ''), matched: u(x.matched ?? '', 'span.mono'),
        name: u(x.name ?? ''),
      }] }))));
  }
}
