// iocgrid portal web UI: sign-in, new search, live results, history. Hash routes:
//   #/new            the search form (default)
//   #/search/ID      one search: members' status, results grouped by indicator, exports
//   #/history        past searches
//   #/sift, #/sift/ID  sift a log, one sift's report (sift-view.js)
// The API key never appears in a URL: it is in sessionStorage and in the Authorization header.

import * as api from './api.js';
import { h, clear, $, fmtTime, plural } from './dom.js';
import { renderSearch } from './search-view.js';
import { renderSiftForm, renderSiftReport } from './sift-view.js';
import { RELATIONS, RELATION_HELP, parseList } from './model.js';

const state = {
  me: null,          // {name, role} once signed in
  members: null,     // GET /members, cached for the form
  draft: {           // the search form survives navigation within the tab
    mode: 'list', text: '', members: null, relations: [...RELATIONS], since: '', until: '',
    label: '', tlp: 'amber', shared: false,
  },
  cleanup: null,     // the current view's teardown (aborts streams)
};

const main = () => $('#main');

// ---------------------------------------------------------------- notices

export function announce(message, kind = 'info') {
  const box = $('#toast');
  clear(box, h('span', message), h('button.link.toast-close', {
    type: 'button', 'aria-label': 'Dismiss', on: { click: () => { box.hidden = true; } },
  }, '×'));
  box.className = `toast toast-${kind}`;
  box.hidden = false;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => {
    box.hidden = true;
  }, kind === 'error' ? 12000 : 5000);
}

export function errorBox(err, what) {
  const msg = err instanceof api.ApiError || err instanceof Error ? err.message : String(err);
  const status = err && err.status ? ` (HTTP ${err.status})` : '';
  return h('div.error-box', { role: 'alert' },
    h('strong', what ? `${what}: ` : 'Error: '),
    h('span.api-message', msg),
    h('span.muted', status));
}

// ---------------------------------------------------------------- sign-in

function signInView(message) {
  const keyInput = h('input#key', {
    type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
    required: true, 'aria-describedby': 'key-help', class: 'mono',
  });
  const show = h('input#show-key', {
    type: 'checkbox',
    on: { change: () => { keyInput.type = show.checked ? 'text' : 'password'; } },
  });
  const err = h('div#signin-error', { 'aria-live': 'assertive' });
  if (message) err.append(errorBox(message, 'Signed out'));
  const button = h('button.primary', { type: 'submit' }, 'Sign in');
  const form = h('form.card.signin', {
    on: {
      submit: async (e) => {
        e.preventDefault();
        const key = keyInput.value.trim();
        clear(err);
        if (!key) {
          err.append(errorBox('Paste your portal API key first.', 'Cannot sign in'));
          keyInput.focus();
          return;
        }
        button.disabled = true;
        button.textContent = 'Checking key…';
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
          err.append(errorBox(ex, 'Sign-in failed'));
          keyInput.select();
          keyInput.focus();
        } finally {
          button.disabled = false;
          button.textContent = 'Sign in';
        }
      },
    },
  },
  h('h1', { tabindex: '-1' }, 'Sign in to the iocgrid portal'),
  h('label', { for: 'key' }, 'Portal API key'),
  keyInput,
  h('p#key-help.hint',
    'Paste the 40-character key from ', h('code', 'iocgrid portal users create'),
    '. It stays in this browser tab only (session storage) and is sent in the Authorization header, never in a URL.'),
  h('label.check', show, ' Show the key while typing'),
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
    h('span.who', h('span.sr-only', 'Signed in as '), h('strong', state.me.name || '?'),
      h('span.role', state.me.role || '')),
    h('button.link', {
      type: 'button',
      on: { click: () => signOut() },
    }, 'Sign out'),
  );
}

function signOut(message) {
  api.forgetKey();
  state.me = null;
  state.members = null;
  showUser();
  mount(signInView(message));
}

// ---------------------------------------------------------------- new search

const MODES = {
  list: {
    label: 'List',
    help: 'One indicator per line: IPs, CIDRs, domains, URLs, hashes, e-mail addresses. Defanged values (hxxp, [.]) are fine; lines starting with # are skipped.',
    placeholder: '198.51.100.7\n203.0.113.0/24\nevil[.]example\nhxxps://bad.example/login\n44d88612fea8a8f36de82e1278abb02f',
  },
  csv: {
    label: 'CSV',
    help: 'CSV with a header row naming a value column (and optionally type, date, first_seen).',
    placeholder: 'type,value,date\nip-dst,198.51.100.7,2024-03-01\ndomain,evil.example,2024-03-02',
  },
  text: {
    label: 'Free text',
    help: 'A report, an e-mail or notes: the portal extracts the indicators first.',
    placeholder: 'Paste a threat report here. Indicators such as 198.51.100[.]7 or hxxp://evil.example/a are extracted.',
  },
};

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
  const modeRadios = Object.entries(MODES).map(([mode, spec]) => {
    const input = h('input', {
      type: 'radio', name: 'mode', value: mode, id: `mode-${mode}`, checked: d.mode === mode,
      on: { change: () => { d.mode = mode; syncMode(); } },
    });
    return h('label.seg', { for: `mode-${mode}` }, input, h('span', spec.label));
  });
  function syncMode() {
    const spec = MODES[d.mode];
    help.textContent = spec.help;
    textarea.placeholder = spec.placeholder;
    syncCount();
  }
  function syncCount() {
    d.text = textarea.value;
    if (d.mode === 'list') {
      const n = parseList(textarea.value).length;
      count.textContent = n ? plural(n, 'indicator') : '';
    } else if (d.mode === 'csv') {
      const rows = textarea.value.split(/\r\n|\r|\n/).filter((l) => l.trim()).length;
      count.textContent = rows > 1 ? `${plural(rows - 1, 'row')} after the header` : '';
    } else {
      const chars = textarea.value.length;
      count.textContent = chars ? `${chars.toLocaleString('en')} characters of text` : '';
    }
  }
  textarea.addEventListener('input', syncCount);
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  const fileInput = h('input#ioc-file', {
    type: 'file', accept: '.txt,.csv,.tsv,.log,.eml,.md,text/*',
    on: {
      change: async () => {
        const f = fileInput.files && fileInput.files[0];
        if (!f) return;
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
  const membersBox = h('div#member-checks.checks', h('p.muted', 'Loading members…'));
  const membersSet = h('fieldset.members-set',
    h('legend', 'Members to ask'),
    h('div.mini-actions',
      h('button.link', { type: 'button', on: { click: () => setAll(membersBox, true) } }, 'All'),
      h('button.link', { type: 'button', on: { click: () => setAll(membersBox, false) } }, 'None')),
    membersBox);
  loadMembers().then((list) => {
    clear(membersBox);
    if (!Array.isArray(list) || list.length === 0) {
      membersBox.append(h('p.empty', 'This portal has no members configured.'));
      return;
    }
    for (const m of list) {
      const name = String(m.name ?? '');
      const enabled = m.enabled !== false;
      const checked = enabled && (d.members ? d.members.includes(name) : true);
      const id = `member-${name}`;
      const details = [m.sector, m.kind, m.disclosure && m.disclosure !== 'full' ? `discloses ${m.disclosure} only` : '']
        .filter(Boolean).map(String).join(' · ');
      membersBox.append(h('label.check', { for: id, class: enabled ? '' : 'disabled' },
        h('input', {
          type: 'checkbox', id, name: 'member', value: name, checked, disabled: !enabled,
          on: { change: () => { d.members = checkedValues(membersBox); } },
        }),
        h('span',
          h('span.member-name', String(m.display_name || name)),
          m.display_name && m.display_name !== name ? h('span.mono.muted', ` ${name}`) : null,
          details ? h('span.muted.small', ` — ${details}`) : null,
          enabled ? null : h('span.badge.st-skipped', 'disabled'))));
    }
  }).catch((err) => {
    clear(membersBox);
    membersBox.append(errorBox(err, 'Cannot load the members'));
  });

  const relBox = h('div#relation-checks.checks', RELATIONS.map((r) => h('label.check', { for: `rel-${r}` },
    h('input', {
      type: 'checkbox', id: `rel-${r}`, name: 'relation', value: r, checked: d.relations.includes(r),
      on: { change: () => { d.relations = checkedValues(relBox); } },
    }),
    h('span', h('span.badge.rel', { dataset: { rel: r } }, r), h('span.muted.small', ` ${RELATION_HELP[r]}`)))));

  const field = (id, label, input, hint) => h('div.field',
    h('label', { for: id }, label), input, hint ? h('p.hint', { id: `${id}-hint` }, hint) : null);
  const since = h('input#since', { type: 'text', value: d.since, placeholder: 'e.g. 365d or 2024-01-01', 'aria-describedby': 'since-hint', autocomplete: 'off' });
  const until = h('input#until', { type: 'text', value: d.until, placeholder: 'e.g. 2025-12-31', 'aria-describedby': 'until-hint', autocomplete: 'off' });
  const label = h('input#label', { type: 'text', value: d.label, placeholder: 'e.g. case 42', maxlength: '200', autocomplete: 'off' });
  const tlp = h('select#tlp', ['clear', 'green', 'amber', 'amber+strict', 'red'].map((t) =>
    h('option', { value: t }, `TLP:${t.toUpperCase()}`)));
  tlp.value = d.tlp;
  const shared = h('input#shared', { type: 'checkbox', checked: d.shared });
  for (const [el, key] of [[since, 'since'], [until, 'until'], [label, 'label'], [tlp, 'tlp']]) {
    el.addEventListener('input', () => { d[key] = el.value; });
  }
  shared.addEventListener('change', () => { d.shared = shared.checked; });

  const submit = h('button#search-submit.primary', { type: 'submit' }, 'Search');
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
          if (!values.length) return fail('Enter at least one indicator.', textarea);
          body.indicators = values;
        } else if (d.mode === 'csv') {
          if (!text.trim()) return fail('Paste CSV text with a header row.', textarea);
          body.csv = text;
        } else {
          if (!text.trim()) return fail('Paste the text to extract indicators from.', textarea);
          body.text = text;
        }
        const mboxes = [...membersBox.querySelectorAll('input[name=member]:not(:disabled)')];
        if (mboxes.length) {
          const chosen = mboxes.filter((b) => b.checked).map((b) => b.value);
          if (!chosen.length) return fail('Choose at least one member to ask.', mboxes[0]);
          body.members = chosen;
        }
        const rels = checkedValues(relBox);
        if (!rels.length) return fail('Choose at least one relation.', relBox.querySelector('input'));
        if (rels.length !== RELATIONS.length) body.relations = rels;
        if (since.value.trim()) body.since = since.value.trim();
        if (until.value.trim()) body.until = until.value.trim();
        if (label.value.trim()) body.label = label.value.trim();
        body.tlp = tlp.value;
        body.shared = shared.checked;
        submit.disabled = true;
        submit.textContent = 'Starting…';
        try {
          const started = await api.startSearch(body);
          if (!started || !started.id) throw new Error('The portal answered without a search id.');
          location.hash = `#/search/${encodeURIComponent(started.id)}`;
        } catch (ex) {
          formError.append(errorBox(ex, 'The search did not start'));
          submit.disabled = false;
          submit.textContent = 'Search';
        }
        return undefined;
      },
    },
  },
  h('h1', { tabindex: '-1' }, 'New search'),
  h('fieldset.indicators-set',
    h('legend', 'Indicators'),
    h('div.segmented', { role: 'radiogroup', 'aria-label': 'Input format' }, modeRadios),
    h('label.sr-only', { for: 'ioc-input' }, 'Indicators to search'),
    textarea,
    h('div.below-input', help, count),
    h('div.file-row', h('label', { for: 'ioc-file' }, 'Or load a file: '), fileInput)),
  h('div.grid2', membersSet, h('fieldset', h('legend', 'Relations'), relBox)),
  h('fieldset',
    h('legend', 'Scope and handling'),
    h('div.grid4',
      field('since', 'Member data since', since, 'YYYY-MM-DD, unix time or e.g. 365d'),
      field('until', 'Until', until, 'YYYY-MM-DD or unix time'),
      field('label', 'Label', label),
      field('tlp', 'TLP of this query', tlp)),
    h('label.check', { for: 'shared' }, shared, ' Share this search with every analyst of the alliance')),
  formError,
  h('div.actions', submit, h('span.hint', h('kbd', 'Ctrl'), '+', h('kbd', 'Enter'), ' in the text box also searches')));

  function fail(message, focusEl) {
    formError.append(errorBox(message, 'Cannot search yet'));
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

// ---------------------------------------------------------------- history

function historyView() {
  const body = h('div#history-body', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p.muted', 'Loading history…'));
  const refresh = h('button', { type: 'button', on: { click: () => load() } }, 'Refresh');
  const node = h('section.history',
    h('div.page-head', h('h1', { tabindex: '-1' }, 'Search history'), refresh),
    body);

  async function load() {
    body.setAttribute('aria-busy', 'true');
    let list;
    try {
      list = await api.listSearches();
    } catch (err) {
      clear(body, errorBox(err, 'Cannot load the history'));
      body.setAttribute('aria-busy', 'false');
      return;
    }
    body.setAttribute('aria-busy', 'false');
    clear(body);
    if (!Array.isArray(list) || list.length === 0) {
      body.append(h('div.empty',
        h('p', 'No searches yet.'),
        h('p', h('a', { href: '#/new' }, 'Start a new search'))));
      return;
    }
    const rows = list.map((s) => {
      const id = String(s.id ?? '');
      const del = h('button.danger', {
        type: 'button',
        'aria-label': `Delete search ${s.label || id}`,
        on: {
          click: async () => {
            if (!window.confirm(`Delete the search "${s.label || id}"? This cannot be undone.`)) return;
            del.disabled = true;
            try {
              await api.deleteSearch(id);
              announce(`Deleted the search ${s.label ? `"${s.label}"` : id}.`);
              await load();
              const h1 = node.querySelector('h1');
              if (h1) h1.focus();
            } catch (err) {
              del.disabled = false;
              announce(`Cannot delete: ${err.message}`, 'error');
            }
          },
        },
      }, 'Delete');
      return h('tr', { dataset: { id } },
        h('td.nowrap', fmtTime(s.created)),
        h('td', h('a.open', { href: `#/search/${encodeURIComponent(id)}` }, s.label ? String(s.label) : h('span.muted', `(no label) ${id}`))),
        h('td', s.tlp ? tlpBadge(s.tlp) : ''),
        h('td', String(s.owner ?? '')),
        h('td', h('span.badge', { class: `st-${s.status}` }, String(s.status ?? ''))),
        h('td.num', String(s.indicators ?? '')),
        h('td.num', String(s.hits ?? '')),
        h('td', s.shared ? 'shared' : ''),
        h('td.actions-cell',
          h('a.button', { href: `#/search/${encodeURIComponent(id)}`, 'aria-label': `Open search ${s.label || id}` }, 'Open'),
          ' ', del));
    });
    body.append(h('div.table-wrap', h('table.history-table',
      h('caption.sr-only', 'Past searches, newest first'),
      h('thead', h('tr', ['Created', 'Label', 'TLP', 'Owner', 'Status', 'Indicators', 'Hits', 'Shared', ''].map((c) =>
        h('th', { scope: 'col' }, c)))),
      h('tbody', rows))));
  }
  load();
  return { node, focus: node.querySelector('h1') };
}

export function tlpBadge(tlp) {
  const t = String(tlp).toLowerCase();
  return h('span.tlp', { dataset: { tlp: t } }, `TLP:${t.toUpperCase()}`);
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
      mount(signInView());
      return;
    }
    try {
      state.me = await api.me(key);
      showUser();
    } catch (err) {
      if (err.status === 403 || err.status === 401) {
        api.forgetKey();
        mount(signInView(err));
      } else {
        mount({ node: h('div.narrow', errorBox(err, 'Cannot reach the portal'),
          h('button', { type: 'button', on: { click: () => route() } }, 'Try again')) });
      }
      return;
    }
  }
  const hash = location.hash || '#/new';
  const m = /^#\/search\/([^/?#]+)$/.exec(hash);
  if (m) {
    markNav('');
    document.title = 'Search — iocgrid portal';
    mount(renderSearch(decodeURIComponent(m[1]), { announce, errorBox, tlpBadge }));
  } else if (/^#\/sift\/[^/?#]+$/.test(hash)) {
    markNav('sift');
    document.title = 'Sift — iocgrid portal';
    mount(renderSiftReport(decodeURIComponent(hash.slice('#/sift/'.length)), { errorBox }));
  } else if (hash === '#/sift') {
    markNav('sift');
    document.title = 'Sift a log — iocgrid portal';
    mount(renderSiftForm({ errorBox }));
  } else if (hash === '#/history') {
    markNav('history');
    document.title = 'History — iocgrid portal';
    mount(historyView());
  } else {
    markNav('new');
    document.title = 'New search — iocgrid portal';
    mount(newSearchView());
  }
}

window.addEventListener('hashchange', () => route());
document.addEventListener('DOMContentLoaded', () => {
  const skip = $('#skip');
  skip.addEventListener('click', (e) => {
    e.preventDefault();
    const target = main().querySelector('h1') || main();
    target.focus();
  });
  route();
});

