// The alliance's members (GET /api/v1/members): what each holds and shares, its health from
// the latest search that asked it (status, latency, when), and for admins the circuit breaker
// and a live check (POST /api/v1/members/check: reachable, latency, version, attribute count,
// data span).

import * as api from './api.js';
import { h, clear, u } from './dom.js';
import { setText, T } from './i18n.js';
import { classOfKind } from './model.js';
import {
  classBadge, day, duration, errorBox, errorNode, num, relationBadge, statusBadge, when,
} from './ui.js';

export function membersView(me) {
  const admin = Boolean(me && me.role === 'admin');
  const list = h('div#members-list.member-cards', { 'aria-busy': 'true' },
    h('p.muted', { i18n: ['members.loading'] }));
  const checkButton = admin
    ? h('button#members-check.primary', { type: 'button', i18n: ['members.check'], on: { click: () => check() } })
    : null;
  const checkStatus = h('p#members-check-status.muted', { role: 'status' });
  const node = h('section.members-page',
    h('div.page-head', h('h1', { tabindex: '-1', i18n: ['members.title'] }),
      h('div.head-actions', h('button', { type: 'button', on: { click: () => load() }, i18n: ['common.refresh'] }), checkButton)),
    h('p.hint', { i18n: [admin ? 'members.intro.admin' : 'members.intro.analyst'] }),
    checkStatus,
    list);
  const cards = new Map();  // name -> {probe}
  let probes = null;

  async function load() {
    list.setAttribute('aria-busy', 'true');
    let members;
    try {
      members = await api.members();
    } catch (err) {
      clear(list, errorBox(err, 'members.cannotLoad'));
      list.setAttribute('aria-busy', 'false');
      return;
    }
    clear(list);
    cards.clear();
    list.setAttribute('aria-busy', 'false');
    if (!Array.isArray(members) || !members.length) {
      list.append(h('p.empty', { i18n: ['form.members.none'] }));
      return;
    }
    for (const m of members) {
      const probe = h('div.probe');
      const card = memberCard(m, probe);
      cards.set(String(m.name), { probe });
      list.append(card);
    }
    if (probes) showProbes();
  }

  function memberCard(m, probe) {
    const name = String(m.name ?? '');
    const rels = Array.isArray(m.relations) ? m.relations : [];
    const fact = (key, ...value) => h('div', h('dt', { i18n: [key] }), h('dd', ...value));
    const last = m.last_search;
    const b = m.breaker;
    return h('article.member-card', { dataset: { member: name }, 'aria-labelledby': `mc-${name}` },
      h('header',
        h('h2', { id: `mc-${name}` }, u(m.display_name || name)),
        m.display_name && m.display_name !== name ? u(name, 'span.mono.muted.small') : null,
        m.enabled === false ? h('span.badge.st-skipped', { i18n: ['member.disabled'] }) : null),
      h('dl.facts',
        fact('members.sector', m.sector ? u(m.sector) : T('common.dash')),
        fact('members.connector', T('members.connector.value', { kind: String(m.kind || '') })),
        fact('members.dataKind', m.data_kind ? u(m.data_kind, 'span.mono') : T('members.dataKind.none'), ' ',
          classBadge(classOfKind(m.data_kind))),
        fact('members.disclosure', T('members.disclosure.value', { level: String(m.disclosure || 'full') })),
        fact('members.relations', rels.length ? h('span.rel-list', rels.map((r) => relationBadge(r))) : T('common.dash')),
        fact('members.lastSearch', last
          ? h('span.last-search', { i18n: ['members.lastSearch.value', {
            status: statusBadge(last.status), elapsed: duration(last.elapsed_ms) || T('common.dash'), when: when(last.at),
          }] })
          : T('members.lastSearch.none')),
        last && last.error ? fact('members.lastError', u(last.error, 'span.member-error')) : null,
        b ? fact('members.breaker', h('span.breaker', { dataset: { state: String(b.state) } },
          h('span.badge', { class: `br-${b.state}`, i18n: ['members.breaker.state', { state: String(b.state) }] }), ' ',
          T('members.breaker.detail', { state: String(b.state), failures: Number(b.consecutive_failures) || 0, s: Math.ceil((Number(b.retry_in_ms) || 0) / 1000) }))) : null),
      probe);
  }

  async function check() {
    checkButton.disabled = true;
    setText(checkStatus, 'members.checking');
    try {
      probes = await api.checkMembers();
      setText(checkStatus, 'members.checked', { t: Math.floor(Date.now() / 1000) });
      showProbes();
    } catch (err) {
      clear(checkStatus, errorBox(err, 'members.checkFailed'));
    } finally {
      checkButton.disabled = false;
    }
  }

  function showProbes() {
    for (const p of Array.isArray(probes) ? probes : []) {
      const c = cards.get(String(p.member));
      if (!c) continue;
      const fact = (key, ...value) => h('div', h('dt', { i18n: [key] }), h('dd', ...value));
      const hasSpan = p.first_date || p.last_date;
      clear(c.probe, h('h3', { i18n: ['members.probe'] }), h('dl.facts',
        fact('members.health', p.ok
          ? h('span.badge.st-done', { i18n: ['members.health.ok'] })
          : h('span.badge.st-failed', { i18n: ['members.health.down'] })),
        p.ok ? null : fact('members.lastError', errorNode({ status: 0, message: p.error || '' }, 'span.member-error')),
        fact('members.latency', duration(p.latency_ms)),
        p.version ? fact('members.version', u(p.version, 'span.mono')) : null,
        p.ok ? fact('members.attributes', num(p.attributes)) : null,
        hasSpan ? fact('members.span', T('members.span.value', { first: day(p.first_date) || T('common.dash'), last: day(p.last_date) || T('common.dash') })) : null));
    }
  }

  load().then(() => {
    if (admin) check();
  });
  return { node, focus: node.querySelector('h1') };
}
