// Continuity (issue 11): sightings back to members (confirm / false positive, on one hit and on
// a whole search), a value's reputation for the hit drawer, and the watchlists pages
// (#/watchlists: list and new; #/watchlist/ID: current hits, runs, delete). A watchlist follows
// a search ("kind": "search") or the alliance's rising trends ("kind": "rising", made on the
// Trends page): its current items and its runs' new and removed ones are then rising cells
// (sector × type, k-anonymous: no organisation is named), shown as the Trends page shows them.

import * as api from './api.js';
import { h, clear, u } from './dom.js';
import { t, T } from './i18n.js';
import { oneIn, periodArgs } from './trends-view.js';
import { announce, classBadge, errorBox, num, relationBadge, when } from './ui.js';

// ------------------------------------------------------------------ sightings

// What the members answered to a sightings request, one line per member.
function sightingResult(answer) {
  const members = Array.isArray(answer && answer.members) ? answer.members : [];
  return h('ul.sighting-result', members.map((m) => h('li',
    h('span', { i18n: ['sight.member', {
      member: u(m.member, 'strong'), sent: Number(m.sent) || 0, refused: Number(m.refused) || 0, failed: Number(m.failed) || 0,
    }] }),
    Array.isArray(m.reasons) && m.reasons.length ? h('span.block.muted.small', u(m.reasons.join(' · '))) : null)));
}

// Two buttons that send `hits` ("all" or [{i, member}]) of search `searchId` back as true or
// false positives, and show the members' answers in `out`.
export function sightingButtons(searchId, hits, { idPrefix }) {
  const out = h('div.sighting-out', { 'aria-live': 'polite', id: `${idPrefix}-out` });
  const make = (type, key) => {
    const b = h(`button.sight-${type === 'true-positive' ? 'confirm' : 'fp'}`, {
      type: 'button', id: `${idPrefix}-${type}`, i18n: [key],
      on: {
        click: async () => {
          for (const x of buttons) x.disabled = true;
          clear(out, h('p.muted', { i18n: ['sight.sending'] }));
          try {
            const answer = await api.sendSightings(searchId, { type, hits });
            clear(out, h('p', { i18n: [type === 'true-positive' ? 'sight.sentTp' : 'sight.sentFp'] }), sightingResult(answer));
            announce({ key: type === 'true-positive' ? 'sight.sentTp' : 'sight.sentFp', args: {} });
          } catch (err) {
            clear(out, errorBox(err, 'sight.cannotSend'));
          } finally {
            for (const x of buttons) x.disabled = false;
          }
        },
      },
    });
    return b;
  };
  const buttons = [make('true-positive', hits === 'all' ? 'sight.confirmAll' : 'sight.confirm'),
    make('false-positive', hits === 'all' ? 'sight.fpAll' : 'sight.fp')];
  return h('div.sightings', h('div.sighting-buttons', buttons), out);
}

// ------------------------------------------------------------------ reputation

// The reputation of a value (GET /api/v1/indicators?value=): loads when shown.
export function reputationBox(value, type) {
  const box = h('div.reputation', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p.muted', { i18n: ['rep.loading'] }));
  (async () => {
    let rep;
    try {
      rep = await api.reputation(value, type);
    } catch (err) {
      clear(box, errorBox(err, 'rep.cannotLoad'));
      box.setAttribute('aria-busy', 'false');
      return;
    }
    box.setAttribute('aria-busy', 'false');
    const parts = rep.score_parts || {};
    const sightings = rep.sightings || {};
    const fact = (key, ...v) => h('div', h('dt', { i18n: [key] }), h('dd', ...v));
    clear(box,
      h('p.rep-score', h('strong.score', { id: 'rep-score' }, num(rep.score)), ' ', h('span.muted', { i18n: ['rep.outOf'] })),
      h('dl.facts',
        fact('rep.heldBy', T('rep.heldByValue', { held: Number(rep.held_by) || 0, answered: Number(rep.members_answered) || 0 })),
        fact('rep.relations', ...(rep.relations || []).map((r) => relationBadge(r))),
        fact('rep.class', classBadge(rep.class)),
        fact('rep.sightings', T('rep.sightingsValue', {
          members: Number(sightings.members) || 0, confirmed: Number(sightings.confirmed) || 0, fp: Number(sightings.false_positive) || 0,
        })),
        fact('rep.seen', rep.first_seen || rep.last_seen
          ? T('rep.seenValue', { first: u(rep.first_seen || '—'), last: u(rep.last_seen || '—') })
          : T('common.dash'))),
      h('p.muted.small', { i18n: ['rep.formula', {
        consensus: fixed(parts.consensus), recency: fixed(parts.recency), sightings: fixed(parts.sightings),
        fp: fixed(parts.false_positive), days: Number(rep.half_life_days) || 0,
      }] }));
  })();
  return box;
}

const fixed = (x) => (Number(x) || 0).toFixed(2);

// "every 15 minutes" from seconds, in the largest whole unit.
function every(seconds) {
  const s = Number(seconds) || 0;
  const [n, unit] = s % 86400 === 0 && s > 0 ? [s / 86400, 'd'] : s % 3600 === 0 && s > 0 ? [s / 3600, 'h']
    : s % 60 === 0 && s > 0 ? [s / 60, 'm'] : [s, 's'];
  return T('watch.every', { n, unit });
}

// ------------------------------------------------------------------ watchlists

// Names (sectors, types) as data, separated as the language separates a list.
function nameList(names) {
  return h('span', names.map((x, i) => [i ? T('watch.rising.sep') : null, u(x)]));
}

// What a rising watchlist follows: "Rising trends: finance, energy · 7 days".
function risingSummary(spec) {
  const s = spec && typeof spec === 'object' ? spec : {};
  const sectors = Array.isArray(s.sectors) ? s.sectors : [];
  const types = Array.isArray(s.types) ? s.types : [];
  return T('watch.rising.summary', {
    all: sectors.length ? 'no' : 'yes', sectors: nameList(sectors),
    typed: types.length ? 'yes' : 'no', types: nameList(types),
    period: T('watch.rising.period', periodArgs(s.window || '7d')),
  });
}

// Rising cells (current, new, ended) as a table: the Trends page's numbers and "1 in n".
function cellTable(cells, captionKey, period) {
  const head = (key, args = {}, cls = '') => h('th', { scope: 'col', class: cls, i18n: [key, args] });
  return h('div.table-wrap', h('table.watch-hits.watch-cells',
    h('caption.sr-only', { i18n: [captionKey] }),
    h('thead', h('tr',
      head('trends.rising.sector'), head('trends.rising.type'),
      head('watch.rising.observables', { period: T('watch.rising.period', periodArgs(period || '7d')) }, 'num'),
      head('trends.rising.baseline', {}, 'num'), head('trends.rising.chance', {}, 'num'))),
    h('tbody', cells.map((c) => h('tr', { dataset: { sector: String(c.sector ?? ''), type: String(c.type ?? '') } },
      h('th', { scope: 'row' }, u(c.sector ?? '')),
      h('td', u(c.type ?? '', 'span.type-chip')),
      h('td.num', { dataset: { col: 'observables' } }, num(c.observables)),
      h('td.num', { dataset: { col: 'baseline' } }, num(Math.round((Number(c.baseline) || 0) * 100) / 100)),
      h('td.num', { dataset: { col: 'p' }, i18n: ['trends.rising.pValue', oneIn(c.p_value)] }))))));
}

export function watchlistsView() {
  const body = h('div#watchlists-body', { 'aria-live': 'polite', 'aria-busy': 'true' }, h('p.muted', { i18n: ['watch.loading'] }));
  const form = newWatchlistForm(() => load());
  const node = h('section.watchlists',
    h('div.page-head', h('h1', { tabindex: '-1', i18n: ['watch.title'] })),
    h('p.muted', { i18n: ['watch.intro'] }),
    h('p.muted', { i18n: ['watch.intro.rising', { link: h('a', { href: '#/trends', i18n: ['nav.trends'] }) }] }),
    body,
    form);

  async function load() {
    body.setAttribute('aria-busy', 'true');
    let list;
    try {
      list = await api.listWatchlists();
    } catch (err) {
      clear(body, errorBox(err, 'watch.cannotLoad'));
      body.setAttribute('aria-busy', 'false');
      return;
    }
    body.setAttribute('aria-busy', 'false');
    if (!Array.isArray(list) || list.length === 0) {
      clear(body, h('p.empty', { i18n: ['watch.empty'] }));
      return;
    }
    const cols = ['name', 'interval', 'indicators', 'hits', 'lastRun', 'webhook'];
    clear(body, h('div.table-wrap', h('table.watch-table',
      h('caption.sr-only', { i18n: ['watch.caption'] }),
      h('thead', h('tr', cols.map((c) => h('th', { scope: 'col', i18n: [`watch.col.${c}`] })))),
      h('tbody', list.map((w) => h('tr', { dataset: { id: String(w.id) } },
        h('td', h('a', { href: `#/watchlist/${encodeURIComponent(w.id)}` }, u(w.name))),
        h('td', every(w.interval_s)),
        w.kind === 'rising' ? h('td', risingSummary(w.rising)) : h('td.num', num(w.indicators)),
        h('td.num', num(w.hits)),
        h('td', w.last_run ? when(w.last_run) : T('watch.never')),
        h('td', w.webhook ? u(w.webhook, 'span.mono.small') : T('common.dash'))))))));
  }
  load();
  return { node, focus: node.querySelector('h1') };
}

function newWatchlistForm(onCreated) {
  const name = h('input#watch-name', { type: 'text', required: true, maxlength: '200', autocomplete: 'off' });
  const iocs = h('textarea#watch-iocs', { rows: '5', required: true, spellcheck: 'false' });
  const interval = h('input#watch-interval', { type: 'text', value: '15m', autocomplete: 'off', 'aria-describedby': 'watch-interval-help' });
  const webhook = h('input#watch-webhook', { type: 'url', autocomplete: 'off' });
  const secret = h('input#watch-secret', { type: 'password', autocomplete: 'off', minlength: '16' });
  const result = h('div#watch-form-result', { 'aria-live': 'polite' });
  const field = (id, key, input, help) => h('div.field', h('label', { for: id, i18n: [key] }), input,
    help ? h('p.hint', { id: `${id}-help`, i18n: [help] }) : null);
  const form = h('form#watch-form.card', {
    on: {
      submit: async (e) => {
        e.preventDefault();
        const body = {
          name: name.value.trim(),
          indicators: iocs.value.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')),
          interval: interval.value.trim() || '15m',
        };
        if (webhook.value.trim()) {
          body.webhook = webhook.value.trim();
          body.secret = secret.value;
        }
        try {
          const created = await api.createWatchlist(body);
          clear(result, h('p', { i18n: ['watch.created', { name: u(body.name, 'strong') }] }));
          announce({ key: 'watch.created', args: { name: body.name } });
          form.reset();
          onCreated(created);
        } catch (err) {
          clear(result, errorBox(err, 'watch.cannotCreate'));
        }
      },
    },
  },
  h('h2', { i18n: ['watch.new'] }),
  field('watch-name', 'watch.name', name),
  field('watch-iocs', 'watch.indicators', iocs, 'watch.indicators.help'),
  field('watch-interval', 'watch.interval', interval, 'watch.interval.help'),
  field('watch-webhook', 'watch.webhook', webhook, 'watch.webhook.help'),
  field('watch-secret', 'watch.secret', secret),
  h('button#watch-submit', { type: 'submit', i18n: ['watch.add'] }),
  result);
  return form;
}

export function watchlistView(id) {
  const title = h('h1', { tabindex: '-1', i18n: ['watch.loading'] });
  const body = h('div#watchlist-body', { 'aria-live': 'polite', 'aria-busy': 'true' });
  const node = h('section.watchlist', h('div.page-head', title), body);
  (async () => {
    let w;
    let runs;
    try {
      [w, runs] = await Promise.all([api.getWatchlist(id), api.watchlistRuns(id)]);
    } catch (err) {
      clear(body, errorBox(err, 'watch.cannotLoad'));
      body.setAttribute('aria-busy', 'false');
      return;
    }
    body.setAttribute('aria-busy', 'false');
    title.removeAttribute('data-i18n');
    clear(title, u(w.name));
    const hits = Array.isArray(w.current_hits) ? w.current_hits : [];
    const del = h('button#watch-delete.danger', {
      type: 'button', i18n: ['watch.delete'],
      on: {
        click: async () => {
          if (!window.confirm(t('watch.delete.confirm', { name: w.name }))) return;
          del.disabled = true;
          try {
            await api.deleteWatchlist(id);
            announce({ key: 'watch.deleted', args: { name: w.name } });
            location.hash = '#/watchlists';
          } catch (err) {
            del.disabled = false;
            announce(err, 'error');
          }
        },
      },
    });
    const hitRow = (x) => h('tr', u(x.indicator, 'td.mono'), u(x.member, 'td'), h('td', relationBadge(x.relation)), u(x.matched || '', 'td.mono'));
    const searchTable = (list, captionKey) => h('div.table-wrap', h('table.watch-hits',
      h('caption.sr-only', { i18n: [captionKey] }),
      h('thead', h('tr', ['indicator', 'member', 'relation', 'matched'].map((c) => h('th', { scope: 'col', i18n: [`watch.hit.${c}`] })))),
      h('tbody', list.map(hitRow))));
    // A rising watchlist's items are cells, and its texts say "rising" where a search's say "hits".
    const rising = w.kind === 'rising';
    const period = rising && w.rising ? w.rising.window : '';
    const hitTable = rising ? (list, captionKey) => cellTable(list, captionKey, period) : searchTable;
    const keys = rising
      ? { current: 'watch.rising.current', caption: 'watch.rising.caption', none: 'watch.rising.none', run: 'watch.rising.run', added: 'watch.rising.new', removed: 'watch.rising.ended' }
      : { current: 'watch.current', caption: 'watch.current.caption', none: 'watch.noHits', run: 'watch.run', added: 'watch.new.hits', removed: 'watch.removed.hits' };
    clear(body,
      h('p.meta', h('span', { i18n: ['watch.meta', {
        every: every(w.interval_s),
        last: w.last_run ? T('watch.lastRun', { t: when(w.last_run) }) : T('watch.never'),
      }] }), ' ', del),
      rising ? h('p#watch-rising-spec', risingSummary(w.rising)) : null,
      h('h2#watch-current-h', { i18n: [keys.current, { n: hits.length }] }),
      hits.length ? hitTable(hits, keys.caption) : h('p.empty', { i18n: [keys.none] }),
      h('h2', { i18n: ['watch.runs'] }),
      Array.isArray(runs) && runs.length
        ? h('ol.watch-runs', runs.map((r) => h('li',
          h('p', { i18n: [keys.run, {
            t: when(r.finished), reason: T('watch.reason', { reason: r.reason }),
            hits: Number(r.hits) || 0, added: (r.new || []).length, removed: (r.removed || []).length,
          }] }),
          (r.new || []).length ? h('div', h('h3', { i18n: [keys.added] }), hitTable(r.new, keys.added)) : null,
          (r.removed || []).length ? h('div', h('h3', { i18n: [keys.removed] }), hitTable(r.removed, keys.removed)) : null)))
        : h('p.empty', { i18n: ['watch.noRuns'] }));
  })();
  return { node, focus: title };
}
