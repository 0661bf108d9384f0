// iocgrid portal web UI: sign-in, language, routing, the new-search form. Hash routes:
//   #/new            the search form (default)
//   #/search/ID      one search (search-view.js)
//   #/history        past searches (history-view.js)
//   #/members        the alliance's members (members-view.js)
//   #/sift, #/sift/ID  sift a log, one sift's report (sift-view.js)
//   #/watchlists, #/watchlist/ID  standing searches (continuity.js)
//   #/trends?window=…  the alliance's trends, k-anonymous (trends-view.js)
// The API key never appears in a URL: it is in sessionStorage and in the Authorization header.

import * as api from './api.js';
import { h, clear, $, u } from './dom.js';
import { LANGS, currentLang, onLangChange, preferredLang, setAttr, setLang, setText, t, T } from './i18n.js';
import { renderSearch } from './search-view.js';
import { historyView } from './history-view.js';
import { membersView } from './members-view.js';
import { renderSiftForm, renderSiftReport } from './sift-view.js';
import { watchlistView, watchlistsView } from './continuity.js';
import { trendsView } from './trends-view.js';
import { RELATIONS, parseList } from './model.js';
import { errorBox, msg } from './ui.js';

const state = {
  me: null,          // {name, role} once signed in
  members: null,     // GET /members, cached for the form
  draft: {           // the search form survives navigation within the tab
    mode: 'list', text: '', members: null, relations: [...RELATIONS], since: '', until: '',
    label: '', tlp: 'amber', shared: false,
  },
  cleanup: null,     // the current view's teardown (aborts streams, ends workers)
  titleKey: 'title.signin',
};

const main = () => $('#main');

// ---------------------------------------------------------------- routes

// One entry per page: the hash pattern, the nav entry it lights (if any), the title key, and
// the view (a function of the match returning {node, focus, cleanup}).
const ROUTES = [
  { re: /^#\/search\/([^/?#]+)$/, nav: '', title: 'title.search', view: (m) => renderSearch(decodeURIComponent(m[1])) },
  { re: /^#\/history$/, nav: 'history', title: 'title.history', view: () => historyView() },
  { re: /^#\/sift\/([^/?#]+)$/, nav: 'sift', title: 'title.siftReport', view: (m) => renderSiftReport(decodeURIComponent(m[1])) },
  { re: /^#\/sift$/, nav: 'sift', title: 'title.sift', view: () => renderSiftForm() },
  { re: /^#\/members$/, nav: 'members', title: 'title.members', view: () => membersView(state.me) },
  { re: /^#\/watchlists$/, nav: 'watchlists', title: 'title.watchlists', view: () => watchlistsView() },
  { re: /^#\/watchlist\/([^/?#]+)$/, nav: 'watchlists', title: 'title.watchlist', view: (m) => watchlistView(decodeURIComponent(m[1])) },
  { re: /^#\/trends(?:\?(.*))?$/, nav: 'trends', title: 'title.trends', view: (m) => trendsView(m[1] || '') },
  { re: /^(#\/new)?$|^#\/?$/, nav: 'new', title: 'title.new', view: () => newSearchView() },
];

function setTitle(key) {
  state.titleKey = key;
  document.title = t('title.page', { page: t(key) });
}

// ---------------------------------------------------------------- sign-in

function signInView(message) {
  const keyInput = h('input#key.mono', {
    type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
    required: true, 'aria-describedby': 'key-help',
  });
  const show = h('input#show-key', {
    type: 'checkbox',
    on: { change: () => { keyInput.type = show.checked ? 'text' : 'password'; } },
  });
  const err = h('div#signin-error', { 'aria-live': 'assertive' });
  if (message) err.append(errorBox(message, 'signin.signedOut'));
  const button = h('button#signin-submit.primary', { type: 'submit', i18n: ['signin.submit'] });
  const form = h('form.card.signin', {
    on: {
      submit: async (e) => {
        e.preventDefault();
        const key = keyInput.value.trim();
        clear(err);
        if (!key) {
          err.append(errorBox(msg('signin.needKey'), 'signin.cannot'));
          keyInput.focus();
          return;
        }
        button.disabled = true;
        setText(button, 'signin.checking');
        try {
          const who = await api.me(key);
          api.setKey(key);
          state.me = who;
          state.members = null;
          showUser();
          if (!location.hash || location.hash === '#/' || location.hash === '#/signin') {
            location.hash = '#/new';
          } else {
            route();
          }
        } catch (ex) {
          err.append(errorBox(ex, 'signin.failed'));
          keyInput.select();
          keyInput.focus();
        } finally {
          button.disabled = false;
          setText(button, 'signin.submit');
        }
      },
    },
  },
  h('h1', { tabindex: '-1', i18n: ['signin.title'] }),
  h('label', { for: 'key', i18n: ['signin.key'] }),
  keyInput,
  h('p#key-help.hint', { i18n: ['signin.help', { command: h('code', { user: true }, 'iocgrid portal users create') }] }),
  h('label.check', { for: 'show-key' }, show, T('signin.show')),
  err,
  h('div.actions', button));
  return { node: h('div.narrow', form), focus: keyInput };
}

function showUser() {
  const bar = $('#userbar');
  clear(bar);
  const nav = $('#nav');
  nav.hidden = !state.me;
  if (!state.me) return;
  bar.append(
    h('span.who',
      h('span.sr-only', { i18n: ['user.signedInAs'] }),
      u(state.me.name || '?', 'strong'),
      h('span.role', { i18n: ['user.role', { role: state.me.role || '' }] })),
    h('button#signout.link', { type: 'button', on: { click: () => signOut() }, i18n: ['user.signOut'] }),
  );
}

function signOut(message) {
  api.forgetKey();
  state.me = null;
  state.members = null;
  showUser();
  setTitle('title.signin');
  mount(signInView(message));
}

// ---------------------------------------------------------------- new search

const MODES = ['list', 'csv', 'text'];

async function loadMembers() {
  if (!state.members) state.members = await api.members();
  return state.members;
}

function newSearchView() {
  const d = state.draft;
  const formError = h('div#form-error', { 'aria-live': 'assertive' });
  const textarea = h('textarea#ioc-input.mono', {
    name: 'indicators', rows: '12', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off',
    'aria-describedby': 'ioc-help ioc-count', value: d.text,
  });
  const help = h('p#ioc-help.hint');
  const count = h('p#ioc-count.hint.count', { 'aria-live': 'polite' });
  const modeRadios = MODES.map((mode) => {
    const input = h('input', {
      type: 'radio', name: 'mode', value: mode, id: `mode-${mode}`, checked: d.mode === mode,
      on: { change: () => { d.mode = mode; syncMode(); } },
    });
    return h('label.seg', { for: `mode-${mode}` }, input, T(`form.mode.${mode}`));
  });
  function syncMode() {
    setText(help, `form.help.${d.mode}`);
    setAttr(textarea, 'placeholder', `form.placeholder.${d.mode}`);
    syncCount();
  }
  function syncCount() {
    d.text = textarea.value;
    if (d.mode === 'list') {
      const n = parseList(textarea.value).length;
      if (n) setText(count, 'form.count.list', { n });
      else clear(count);
    } else if (d.mode === 'csv') {
      const rows = textarea.value.split(/\r\n|\r|\n/).filter((l) => l.trim()).length;
      if (rows > 1) setText(count, 'form.count.csv', { n: rows - 1 });
      else clear(count);
    } else {
      const chars = textarea.value.length;
      if (chars) setText(count, 'form.count.text', { n: chars });
      else clear(count);
    }
  }
  textarea.addEventListener('input', syncCount);
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  // The browser draws a file input's button in its own language, so the input is hidden and a
  // label from the catalog stands in for it (the input keeps the focus and the keyboard).
  const fileName = h('span#ioc-file-name.muted.small', { i18n: ['form.file.none'] });
  const fileInput = h('input#ioc-file.file-hidden', {
    type: 'file', accept: '.txt,.csv,.tsv,.log,.eml,.md,text/*', 'aria-describedby': 'ioc-file-name',
    on: {
      change: async () => {
        const f = fileInput.files && fileInput.files[0];
        if (!f) return;
        fileName.removeAttribute('data-i18n');
        clear(fileName, u(f.name));
        textarea.value = await f.text();
        if (/\.(csv|tsv)$/i.test(f.name)) d.mode = 'csv';
        else if (/\.(eml|md|log)$/i.test(f.name)) d.mode = 'text';
        for (const r of form.querySelectorAll('input[name=mode]')) r.checked = r.value === d.mode;
        syncMode();
        textarea.focus();
      },
    },
  });

  // Members (filled once GET /members answers)
  const membersBox = h('div#member-checks.checks', h('p.muted', { i18n: ['form.members.loading'] }));
  const membersSet = h('fieldset.members-set',
    h('legend', { i18n: ['form.members.legend'] }),
    h('div.mini-actions',
      h('button.link', { type: 'button', on: { click: () => setAll(membersBox, true) }, i18n: ['form.all'] }),
      h('button.link', { type: 'button', on: { click: () => setAll(membersBox, false) }, i18n: ['form.none'] })),
    membersBox);
  loadMembers().then((list) => {
    clear(membersBox);
    if (!Array.isArray(list) || list.length === 0) {
      membersBox.append(h('p.empty', { i18n: ['form.members.none'] }));
      return;
    }
    for (const m of list) {
      const name = String(m.name ?? '');
      const enabled = m.enabled !== false;
      const checked = enabled && (d.members ? d.members.includes(name) : true);
      const id = `member-${name}`;
      const facts = [
        m.sector ? u(m.sector) : null,
        m.kind ? u(m.kind) : null,
        m.disclosure && m.disclosure !== 'full' ? T('member.disclosesOnly', { level: m.disclosure }) : null,
      ].filter(Boolean);
      const details = [];
      facts.forEach((f, k) => {
        if (k) details.push(T('common.sep'));
        details.push(f);
      });
      membersBox.append(h('label.check', { for: id, class: enabled ? '' : 'disabled' },
        h('input', {
          type: 'checkbox', id, name: 'member', value: name, checked, disabled: !enabled,
          on: { change: () => { d.members = checkedValues(membersBox); } },
        }),
        h('span',
          u(m.display_name || name, 'span.member-name'),
          m.display_name && m.display_name !== name ? u(name, 'span.mono.muted.member-id') : null,
          details.length ? h('span.muted.small.member-facts', details) : null,
          enabled ? null : h('span.badge.st-skipped', { i18n: ['member.disabled'] }))));
    }
  }).catch((err) => {
    clear(membersBox);
    membersBox.append(errorBox(err, 'form.members.cannotLoad'));
  });

  const relBox = h('div#relation-checks.checks', RELATIONS.map((r) => h('label.check', { for: `rel-${r}` },
    h('input', {
      type: 'checkbox', id: `rel-${r}`, name: 'relation', value: r, checked: d.relations.includes(r),
      on: { change: () => { d.relations = checkedValues(relBox); } },
    }),
    h('span', h('span.badge.rel', { dataset: { rel: r }, i18n: ['relation.name', { rel: r }] }),
      h('span.muted.small.rel-help', { i18n: [`relation.help.${r}`] })))));

  const field = (id, labelKey, input, hintKey) => h('div.field',
    h('label', { for: id, i18n: [labelKey] }), input,
    hintKey ? h('p.hint', { id: `${id}-hint`, i18n: [hintKey] }) : null);
  const since = h('input#since', { type: 'text', value: d.since, 'aria-describedby': 'since-hint', autocomplete: 'off', i18nAttrs: { placeholder: ['form.since.placeholder'] } });
  const until = h('input#until', { type: 'text', value: d.until, 'aria-describedby': 'until-hint', autocomplete: 'off', i18nAttrs: { placeholder: ['form.until.placeholder'] } });
  const label = h('input#label', { type: 'text', value: d.label, maxlength: '200', autocomplete: 'off', i18nAttrs: { placeholder: ['form.label.placeholder'] } });
  const tlp = h('select#tlp', ['clear', 'green', 'amber', 'amber+strict', 'red'].map((v) =>
    h('option', { value: v, i18n: ['tlp.badge', { tlp: v.toUpperCase() }] })));
  tlp.value = d.tlp;
  const shared = h('input#shared', { type: 'checkbox', checked: d.shared });
  for (const [el, k] of [[since, 'since'], [until, 'until'], [label, 'label'], [tlp, 'tlp']]) {
    el.addEventListener('input', () => { d[k] = el.value; });
  }
  shared.addEventListener('change', () => { d.shared = shared.checked; });

  const submit = h('button#search-submit.primary', { type: 'submit', i18n: ['form.submit'] });
  const form = h('form.search-form', {
    novalidate: true,
    on: {
      submit: async (e) => {
        e.preventDefault();
        clear(formError);
        const body = {};
        const text = textarea.value;
        if (d.mode === 'list') {
          const values = parseList(text);
          if (!values.length) return fail('form.err.noIndicator', textarea);
          body.indicators = values;
        } else if (d.mode === 'csv') {
          if (!text.trim()) return fail('form.err.noCsv', textarea);
          body.csv = text;
        } else {
          if (!text.trim()) return fail('form.err.noText', textarea);
          body.text = text;
        }
        const mboxes = [...membersBox.querySelectorAll('input[name=member]:not(:disabled)')];
        if (mboxes.length) {
          const chosen = mboxes.filter((b) => b.checked).map((b) => b.value);
          if (!chosen.length) return fail('form.err.noMember', mboxes[0]);
          body.members = chosen;
        }
        const rels = checkedValues(relBox);
        if (!rels.length) return fail('form.err.noRelation', relBox.querySelector('input'));
        if (rels.length !== RELATIONS.length) body.relations = rels;
        if (since.value.trim()) body.since = since.value.trim();
        if (until.value.trim()) body.until = until.value.trim();
        if (label.value.trim()) body.label = label.value.trim();
        body.tlp = tlp.value;
        body.shared = shared.checked;
        submit.disabled = true;
        setText(submit, 'form.starting');
        try {
          const started = await api.startSearch(body);
          if (!started || !started.id) throw new api.ApiError(0, '', '', 'bad-answer');
          location.hash = `#/search/${encodeURIComponent(started.id)}`;
        } catch (ex) {
          formError.append(errorBox(ex, 'form.err.notStarted'));
          submit.disabled = false;
          setText(submit, 'form.submit');
        }
        return undefined;
      },
    },
  },
  h('h1', { tabindex: '-1', i18n: ['form.title'] }),
  h('fieldset.indicators-set',
    h('legend', { i18n: ['form.indicators'] }),
    h('div.segmented', { role: 'radiogroup', i18nAttrs: { 'aria-label': ['form.mode.label'] } }, modeRadios),
    h('label.sr-only', { for: 'ioc-input', i18n: ['form.input.label'] }),
    textarea,
    h('div.below-input', help, count),
    h('div.file-row', h('span', { i18n: ['form.file'] }), fileInput,
      h('label.button.file-button', { for: 'ioc-file', i18n: ['form.file.choose'] }), fileName)),
  h('div.grid2', membersSet, h('fieldset', h('legend', { i18n: ['form.relations'] }), relBox)),
  h('fieldset',
    h('legend', { i18n: ['form.scope'] }),
    h('div.grid4',
      field('since', 'form.since', since, 'form.since.hint'),
      field('until', 'form.until', until, 'form.until.hint'),
      field('label', 'form.label', label),
      field('tlp', 'form.tlp', tlp)),
    h('label.check', { for: 'shared' }, shared, T('form.shared'))),
  formError,
  h('div.actions', submit, h('span.hint', { i18n: ['form.shortcut', { ctrl: h('kbd', { i18n: ['key.ctrl'] }), enter: h('kbd', { i18n: ['key.enter'] }) }] })));

  function fail(key, focusEl) {
    formError.append(errorBox(msg(key), 'form.err.cannot'));
    if (focusEl) focusEl.focus();
  }
  syncMode();
  return { node: form, focus: form.querySelector('h1') };
}

function checkedValues(box) {
  return [...box.querySelectorAll('input[type=checkbox]:checked')].map((b) => b.value);
}

function setAll(box, on) {
  for (const b of box.querySelectorAll('input[type=checkbox]:not(:disabled)')) {
    b.checked = on;
    b.dispatchEvent(new Event('change'));
  }
}

// ---------------------------------------------------------------- language switch

function langSwitch() {
  const select = h('select#lang', {
    i18nAttrs: { 'aria-label': ['lang.label'] },
    on: {
      change: async () => {
        await setLang(select.value, { remember: true });
      },
    },
  }, LANGS.map((code) => h('option', { value: code, lang: code, i18n: [`lang.${code}`] })));
  select.value = currentLang();
  return h('div.lang-switch', select);
}

// ---------------------------------------------------------------- routing

function mount(view) {
  if (state.cleanup) {
    try {
      state.cleanup();
    } catch {
      /* a view's teardown never blocks navigation */
    }
  }
  state.cleanup = view.cleanup || null;
  $('#toast').hidden = true;
  clear(main(), view.node);
  if (view.focus) view.focus.focus({ preventScroll: false });
  window.scrollTo(0, 0);
}

function markNav(which) {
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.route === which) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  if (!state.me) {
    const key = api.getKey();
    if (!key) {
      markNav('');
      setTitle('title.signin');
      mount(signInView());
      return;
    }
    try {
      state.me = await api.me(key);
      showUser();
    } catch (err) {
      setTitle('title.signin');
      if (err.status === 403 || err.status === 401) {
        api.forgetKey();
        mount(signInView(err));
      } else {
        mount({
          node: h('div.narrow', errorBox(err, 'app.cannotReach'),
            h('button', { type: 'button', on: { click: () => route() }, i18n: ['common.retry'] })),
        });
      }
      return;
    }
  }
  const hash = location.hash || '#/new';
  for (const r of ROUTES) {
    const m = r.re.exec(hash);
    if (!m) continue;
    markNav(r.nav);
    setTitle(r.title);
    mount(r.view(m));
    return;
  }
  markNav('');
  setTitle('title.notFound');
  mount({
    node: h('section.narrow', h('h1', { tabindex: '-1', i18n: ['app.noPage'] }),
      h('p', h('a', { href: '#/new', i18n: ['app.toNew'] }))),
  });
}

async function start() {
  await setLang(preferredLang());
  $('#header-tools').prepend(langSwitch());
  onLangChange(() => {
    setTitle(state.titleKey);
    const sel = $('#lang');
    if (sel) sel.value = currentLang();
  });
  const skip = $('#skip');
  skip.addEventListener('click', (e) => {
    e.preventDefault();
    const target = main().querySelector('h1') || main();
    target.focus();
  });
  window.addEventListener('hashchange', () => route());
  route();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
