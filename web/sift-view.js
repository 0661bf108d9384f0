// "Sift a log": upload a web server, WAF/IDS, Zeek or firewall log to POST /api/v1/sifts (the
// portal parses it as it arrives and keeps only its distinct observables), then the report of
// GET /api/v1/sifts/{id}: summary, the four alert cells, the share of lines and clients per
// class, the top observables per class with their member hits, and the search behind it.
//
//   #/sift        the upload form
//   #/sift/ID     one sift's report (polled while its search runs)
//
// Every user-visible string of this page is in TEXT below (one sentence per key, placeholders
// in braces), so that it can move to the message catalogs as a whole.

import * as api from './api.js';
import { h, clear, fmtTime } from './dom.js';

export const TEXT = {
  'form.title': 'Sift a log',
  'form.intro': 'Upload a web server access log, a WAF or IDS log (Suricata EVE, ModSecurity), a Zeek log or a firewall CSV export, plain or gzip. The portal parses it as it arrives and keeps only the distinct addresses, names, URLs and hashes it holds; the log itself is never stored.',
  'form.file': 'Log file',
  'form.label': 'Label',
  'form.labelPlaceholder': 'e.g. web frontend, March',
  'form.format': 'Log format',
  'form.formatAuto': 'Detect from the first line',
  'form.shared': 'Share this sift with every analyst of the alliance',
  'form.submit': 'Upload and sift',
  'form.uploading': 'Uploading…',
  'form.noFile': 'Choose a log file first.',
  'form.cannotStart': 'Cannot sift yet',
  'form.failed': 'The sift failed',
  'upload.sent': 'Sent {sent} of {total} ({percent}).',
  'upload.parsed': 'The portal has read {lines} lines and found {observables} distinct observables so far.',
  'upload.waiting': 'Upload complete; the portal is finishing the parse.',
  'report.title': 'Sift',
  'report.loading': 'Loading the sift…',
  'report.unavailable': 'Sift not available',
  'report.cannotOpen': 'Cannot open this sift',
  'report.back': 'Sift another log',
  'report.meta': 'Owner {owner} · {created} · format {format} · {bytes} received',
  'report.statusSearching': 'Matching the observables across the alliance: {done} of {total} members answered.',
  'report.statusDone': 'Done: {answered} of {total} members answered.',
  'report.statusInterrupted': 'The search behind this sift was interrupted; classes may be incomplete.',
  'report.statusNoSearch': 'Nothing in this log was public to search: every address and name was internal.',
  'report.openSearch': 'Open the search with every member hit',
  'summary.title': 'Summary',
  'summary.lines': 'Lines',
  'summary.parsed': 'Parsed',
  'summary.malformed': 'Malformed',
  'summary.cut': 'Cut at 64 KiB',
  'summary.internal': 'Internal (not sent)',
  'summary.observables': 'Distinct observables',
  'summary.clients': 'Clients',
  'summary.alerts': 'Alerts',
  'summary.malformedLine': 'Line {line}: {reason}',
  'cells.title': 'Alerts and classes (clients)',
  'cells.noAlerts': 'This log has no alerts (alerts come from Suricata EVE, ModSecurity or a WAF CSV export).',
  'cells.alerted_threat': 'Alerted and known threat',
  'cells.alerted_noise': 'Alerted and noise (untargeted scanning)',
  'cells.alerted_unknown': 'Alerted and unknown (worth a look: possibly targeted)',
  'cells.not_alerted_threat_or_anonymizer': 'Not alerted, yet threat or anonymizer (what the WAF let through)',
  'classes.title': 'Classes',
  'classes.class': 'Class',
  'classes.observables': 'Observables',
  'classes.clients': 'Clients',
  'classes.clientShare': 'Share of clients',
  'classes.lines': 'Lines',
  'classes.lineShare': 'Share of lines',
  'class.threat': 'Threat',
  'class.noise': 'Noise',
  'class.anonymizer': 'Anonymizer',
  'class.benign': 'Benign',
  'class.unknown': 'Unknown',
  'top.title': 'Top observables: {class}',
  'top.none': 'None.',
  'top.value': 'Observable',
  'top.field': 'Field',
  'top.lines': 'Lines',
  'top.alerts': 'Alerts',
  'top.seen': 'First and last seen',
  'top.hits': 'Member hits',
  'top.hitCountOne': 'Show 1 hit',
  'top.hitCount': 'Show {count} hits',
  'top.noHits': 'No member holds it.',
  'hit.line': '{member} · {relation} · {matched} {name}',
};

const CLASSES = ['threat', 'noise', 'anonymizer', 'benign', 'unknown'];
const CELLS = ['alerted_threat', 'alerted_noise', 'alerted_unknown', 'not_alerted_threat_or_anonymizer'];
const FORMATS = ['combined', 'common', 'json', 'eve', 'modsec', 'zeek', 'csv'];

// TEXT[key] with {name} placeholders filled from vars.
export function t(key, vars = {}) {
  const text = TEXT[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

const num = (n) => Number(n ?? 0).toLocaleString('en');

export function share(part, whole) {
  const p = Number(part ?? 0);
  const w = Number(whole ?? 0);
  return w > 0 ? `${((100 * p) / w).toFixed(1)}%` : '–';
}

function bytes(n) {
  const v = Number(n ?? 0);
  if (v >= 1 << 30) return `${(v / (1 << 30)).toFixed(1)} GiB`;
  if (v >= 1 << 20) return `${(v / (1 << 20)).toFixed(1)} MiB`;
  if (v >= 1 << 10) return `${(v / (1 << 10)).toFixed(1)} KiB`;
  return `${v} B`;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

// ------------------------------------------------------------------ upload form

export function renderSiftForm({ errorBox }) {
  const ctrl = new AbortController();
  const file = h('input#sift-file', { type: 'file', required: true });
  const label = h('input#sift-label', { type: 'text', maxlength: '200', autocomplete: 'off', placeholder: t('form.labelPlaceholder') });
  const format = h('select#sift-format',
    h('option', { value: '' }, t('form.formatAuto')),
    FORMATS.map((f) => h('option', { value: f }, f)));
  const shared = h('input#sift-shared', { type: 'checkbox' });
  const bar = h('progress#sift-progress', { max: '1', value: '0', hidden: true });
  const sentLine = h('p#sift-sent.hint', { 'aria-live': 'polite' });
  const parsedLine = h('p#sift-parsed.hint', { 'aria-live': 'polite' });
  const formError = h('div#sift-error', { 'aria-live': 'assertive' });
  const submit = h('button#sift-submit.primary', { type: 'submit' }, t('form.submit'));
  const title = h('h1', { tabindex: '-1' }, t('form.title'));
  const form = h('form.card.sift-form', { novalidate: true, on: { submit: (e) => { e.preventDefault(); upload(); } } },
    title,
    h('p.hint', t('form.intro')),
    h('div.field', h('label', { for: 'sift-file' }, t('form.file')), file),
    h('div.grid4',
      h('div.field', h('label', { for: 'sift-label' }, t('form.label')), label),
      h('div.field', h('label', { for: 'sift-format' }, t('form.format')), format)),
    h('label.check', { for: 'sift-shared' }, shared, ` ${t('form.shared')}`),
    formError,
    h('div.actions', submit),
    bar, sentLine, parsedLine);

  async function upload() {
    clear(formError);
    const f = file.files && file.files[0];
    if (!f) {
      formError.append(errorBox(t('form.noFile'), t('form.cannotStart')));
      file.focus();
      return;
    }
    const params = new URLSearchParams();
    const name = label.value.trim() || f.name;
    params.set('label', name);
    if (format.value) params.set('format', format.value);
    if (shared.checked) params.set('shared', 'true');
    submit.disabled = true;
    submit.textContent = t('form.uploading');
    bar.hidden = false;
    const watcher = watchServer(name);
    try {
      const created = await api.uploadSift(f, params.toString(), (sent, total) => {
        bar.value = total ? sent / total : 0;
        sentLine.textContent = t('upload.sent', { sent: bytes(sent), total: bytes(total), percent: share(sent, total) });
        if (total && sent >= total) parsedLine.textContent = t('upload.waiting');
      });
      location.hash = `#/sift/${encodeURIComponent(created.id)}`;
    } catch (err) {
      formError.append(errorBox(err, t('form.failed')));
      submit.disabled = false;
      submit.textContent = t('form.submit');
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
            parsedLine.textContent = t('upload.parsed', { lines: num(mine.progress.lines), observables: num(mine.progress.observables) });
          }
        } catch {
          /* progress is a courtesy: the upload goes on */
        }
      }
    })();
    return stop;
  }

  return { node: form, focus: title, cleanup: () => ctrl.abort() };
}

// ------------------------------------------------------------------ report

export function renderSiftReport(id, { errorBox }) {
  const ctrl = new AbortController();
  const title = h('h1#sift-title', { tabindex: '-1' }, t('report.title'));
  const root = h('section.sift', { 'aria-busy': 'true' }, h('div.page-head', title), h('p.muted', t('report.loading')));
  load();
  return { node: root, focus: title, cleanup: () => ctrl.abort() };

  async function load() {
    for (let attempt = 0; !ctrl.signal.aborted; attempt += 1) {
      let report;
      try {
        report = await api.getSift(id, ctrl.signal);
      } catch (err) {
        if (ctrl.signal.aborted) return;
        title.textContent = t('report.unavailable');
        clear(root, h('div.page-head', title), errorBox(err, t('report.cannotOpen')),
          h('p', h('a', { href: '#/sift' }, t('report.back'))));
        root.setAttribute('aria-busy', 'false');
        return;
      }
      if (ctrl.signal.aborted) return;
      draw(report);
      const running = report.status === 'searching' || report.status === 'uploading';
      root.setAttribute('aria-busy', running ? 'true' : 'false');
      if (!running) return;
      await sleep(Math.min(1000, 250 + attempt * 100), ctrl.signal);
    }
  }

  function draw(r) {
    title.textContent = r.label ? String(r.label) : t('report.title');
    const s = r.summary || {};
    clear(root,
      h('div.page-head', title, h('span.badge', { class: `st-${r.status}`, id: 'sift-status' }, String(r.status ?? ''))),
      h('p.muted', t('report.meta', { owner: r.owner ?? '', created: fmtTime(r.created), format: s.format ?? '', bytes: bytes(s.bytes) })),
      statusLine(r),
      summary(s),
      cells(r.alert_cells || {}, s),
      classes(s),
      CLASSES.map((c) => top(c, (r.top && r.top[c]) || [])));
  }

  function statusLine(r) {
    const search = r.search;
    const members = (search && Array.isArray(search.members)) ? search.members : [];
    let text = t('report.statusDone', { answered: members.filter((m) => m.status === 'done').length, total: members.length });
    if (!search) text = t('report.statusNoSearch');
    else if (r.status === 'searching') {
      const p = search.progress || {};
      text = t('report.statusSearching', { done: p.members_done ?? 0, total: p.members_total ?? 0 });
    } else if (r.status === 'interrupted') text = t('report.statusInterrupted');
    return h('div.statusline',
      h('p#sift-statusline.status-text', { role: 'status' }, text),
      search ? h('a#sift-search-link.button', { href: `#/search/${encodeURIComponent(search.id)}` }, t('report.openSearch')) : null);
  }

  function summary(s) {
    const items = [
      ['lines', s.lines], ['parsed', s.parsed], ['malformed', s.malformed], ['cut', s.cut],
      ['internal', s.internal], ['observables', s.observables], ['clients', s.clients], ['alerts', s.alerts],
    ];
    const examples = Array.isArray(s.malformed_examples) ? s.malformed_examples : [];
    return h('section#sift-summary.panel',
      h('h2', t('summary.title')),
      h('dl.stats', items.map(([key, value]) => h('div.stat', { dataset: { key } },
        h('dt', t(`summary.${key}`)), h('dd.num', num(value))))),
      examples.length ? h('ul.small.muted', examples.map((m) => h('li', t('summary.malformedLine', m)))) : null);
  }

  function cells(c, s) {
    return h('section#sift-cells.panel',
      h('h2', t('cells.title')),
      Number(s.alerts ?? 0) === 0 ? h('p.hint', t('cells.noAlerts')) : null,
      h('div.cells', CELLS.map((key) => h('div.cell', { dataset: { cell: key } },
        h('span.cell-num.num', num(c[key])), h('span.cell-label', t(`cells.${key}`))))));
  }

  function classes(s) {
    const by = s.by_class || {};
    return h('section#sift-classes.panel',
      h('h2', t('classes.title')),
      h('div.table-wrap', h('table.class-table',
        h('thead', h('tr', ['class', 'observables', 'clients', 'clientShare', 'lines', 'lineShare'].map((k) => h('th', { scope: 'col' }, t(`classes.${k}`))))),
        h('tbody', CLASSES.map((c) => {
          const x = by[c] || {};
          return h('tr', { dataset: { class: c } },
            h('th', { scope: 'row' }, h('span.cls', { dataset: { class: c } }, t(`class.${c}`))),
            h('td.num', num(x.observables)),
            h('td.num', num(x.clients)),
            h('td.num', share(x.clients, s.clients)),
            h('td.num', num(x.lines)),
            h('td.num', share(x.lines, s.lines)));
        })))));
  }

  function top(cls, list) {
    return h('section.panel.sift-top', { dataset: { class: cls } },
      h('h2', t('top.title', { class: t(`class.${cls}`) })),
      list.length === 0 ? h('p.muted', t('top.none')) : h('div.table-wrap', h('table',
        h('thead', h('tr', ['value', 'field', 'lines', 'alerts', 'seen', 'hits'].map((k) => h('th', { scope: 'col' }, t(`top.${k}`))))),
        h('tbody', list.map((o) => h('tr', { dataset: { value: String(o.value ?? '') } },
          h('td.ioc.mono', String(o.value ?? '')),
          h('td', String(o.field ?? '')),
          h('td.num', num(o.lines)),
          h('td.num', num(o.alerts)),
          h('td.nowrap.small', [o.first_seen, o.last_seen].filter(Boolean).join(' – ')),
          h('td', hits(o.hits || []))))))));
  }

  function hits(list) {
    if (list.length === 0) return h('span.muted', t('top.noHits'));
    return h('details.hits-detail',
      h('summary', list.length === 1 ? t('top.hitCountOne') : t('top.hitCount', { count: list.length })),
      h('ul.small', list.map((x) => h('li', t('hit.line', {
        member: x.member ?? '', relation: x.relation ?? '', matched: x.matched ?? '', name: x.name ?? '',
      }).trim()))));
  }
}
