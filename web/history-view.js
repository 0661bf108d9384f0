// Past searches (GET /api/v1/searches, newest first): a text filter over label, owner, id,
// status and TLP; open, run again (POST /searches/{id}/rerun) and delete.

import * as api from './api.js';
import { h, clear, u } from './dom.js';
import { setText, t, T } from './i18n.js';
import { announce, errorBox, num, statusBadge, tlpBadge, when } from './ui.js';

export function historyView() {
  const body = h('div#history-body', { 'aria-live': 'polite', 'aria-busy': 'true' },
    h('p.muted', { i18n: ['history.loading'] }));
  const refresh = h('button', { type: 'button', on: { click: () => load() }, i18n: ['common.refresh'] });
  const filter = h('input#history-filter', {
    type: 'search', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'history-count',
    i18nAttrs: { placeholder: ['history.filter.placeholder'] },
    on: { input: () => applyFilter() },
  });
  const filterCount = h('span#history-count.muted.small', { 'aria-live': 'polite' });
  const node = h('section.history',
    h('div.page-head', h('h1', { tabindex: '-1', i18n: ['history.title'] }), refresh),
    h('div.filter-row', h('label', { for: 'history-filter', i18n: ['history.filter'] }), filter, filterCount),
    body);
  let rows = [];

  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    let shown = 0;
    for (const r of rows) {
      const ok = !q || r.text.includes(q);
      r.tr.hidden = !ok;
      if (ok) shown += 1;
    }
    if (q) setText(filterCount, 'common.shownOf', { shown, total: rows.length });
    else clear(filterCount);
    const none = node.querySelector('#history-nomatch');
    if (none) none.hidden = !(q && shown === 0 && rows.length);
  }

  async function rerun(s, button) {
    button.disabled = true;
    try {
      const started = await api.rerunSearch(String(s.id));
      location.hash = `#/search/${encodeURIComponent(started.id)}`;
    } catch (err) {
      button.disabled = false;
      announce(err, 'error');
    }
  }

  async function load() {
    body.setAttribute('aria-busy', 'true');
    let list;
    try {
      list = await api.listSearches();
    } catch (err) {
      clear(body, errorBox(err, 'history.cannotLoad'));
      body.setAttribute('aria-busy', 'false');
      return;
    }
    body.setAttribute('aria-busy', 'false');
    clear(body);
    rows = [];
    if (!Array.isArray(list) || list.length === 0) {
      body.append(h('div.empty',
        h('p', { i18n: ['history.empty'] }),
        h('p', h('a', { href: '#/new', i18n: ['history.startNew'] }))));
      applyFilter();
      return;
    }
    for (const s of list) {
      const id = String(s.id ?? '');
      const name = s.label ? String(s.label) : id;
      const del = h('button.danger', {
        type: 'button',
        i18nAttrs: { 'aria-label': ['history.delete.aria', { name }] },
        i18n: ['history.delete'],
        on: {
          click: async () => {
            if (!window.confirm(t('history.delete.confirm', { name }))) return;
            del.disabled = true;
            try {
              await api.deleteSearch(id);
              announce({ key: 'history.deleted', args: { name } });
              await load();
              const h1 = node.querySelector('h1');
              if (h1) h1.focus();
            } catch (err) {
              del.disabled = false;
              announce(err, 'error');
            }
          },
        },
      });
      const again = h('button.rerun', {
        type: 'button', i18n: ['history.rerun'],
        i18nAttrs: { 'aria-label': ['history.rerun.aria', { name }] },
        on: { click: () => rerun(s, again) },
      });
      const open = h('a.button.open-button', {
        href: `#/search/${encodeURIComponent(id)}`, i18n: ['history.open'],
        i18nAttrs: { 'aria-label': ['history.open.aria', { name }] },
      });
      const tr = h('tr', { dataset: { id } },
        h('td.created', when(s.created)),
        h('td', h('a.open', { href: `#/search/${encodeURIComponent(id)}` },
          s.label ? u(s.label) : T('history.noLabel', { id }))),
        h('td', s.tlp ? tlpBadge(s.tlp) : null),
        h('td', u(s.owner ?? '')),
        h('td', statusBadge(s.status)),
        h('td.num', num(s.indicators)),
        h('td.num', num(s.hits)),
        h('td', s.shared ? T('history.shared') : null),
        h('td.actions-cell', open, again, del));
      rows.push({ tr, text: [s.label, s.owner, id, s.status, s.tlp, t('status.label', { status: s.status })].map((x) => String(x ?? '')).join('\n').toLowerCase() });
    }
    const cols = ['created', 'label', 'tlp', 'owner', 'status', 'indicators', 'hits', 'shared', 'actions'];
    body.append(h('div.table-wrap', h('table.history-table',
      h('caption.sr-only', { i18n: ['history.caption'] }),
      h('thead', h('tr', cols.map((c) => h('th', { scope: 'col', class: ['indicators', 'hits'].includes(c) ? 'num' : '' },
        c === 'actions' ? h('span.sr-only', { i18n: ['history.col.actions'] }) : T(`history.col.${c}`))))),
      h('tbody', rows.map((r) => r.tr)))),
    h('p#history-nomatch.empty', { hidden: true, i18n: ['history.nomatch'] }));
    applyFilter();
  }
  load();
  return { node, focus: node.querySelector('h1') };
}
