// The state of one search as the UI sees it: built from GET /api/v1/searches/{id} and updated by
// the events of /events (docs/portal-api.md). No DOM and no catalog here: this module runs in
// the results worker (results-worker.js) and in Node's tests.
//
// Hits live in a column store (HitStore: one array per field, strings interned), so 10^6 hits
// cost a few arrays rather than 10^6 objects, and the result view asks for a window of rows of
// a filtered, sorted order (ResultQuery) with counts per filter value.

export const RELATIONS = ['exact', 'component', 'url-host', 'subdomain', 'in-range'];
export const MEMBER_STATUSES = ['queued', 'running', 'done', 'failed', 'timed_out', 'skipped'];
export const FINAL_MEMBER_STATUSES = new Set(['done', 'failed', 'timed_out', 'skipped']);

// Classes of a hit from the kind of the member's data (docs/sift.md "Classes", the defaults of
// sift::DefaultRules()); a member without data_kind counts as `threat`.
export const CLASSES = ['threat', 'noise', 'anonymizer', 'benign'];
const KIND_CLASS = {
  threat: 'threat', ioc: 'threat',
  honeypot: 'noise', scanner: 'noise',
  anonymizer: 'anonymizer', proxy: 'anonymizer', vpn: 'anonymizer', tor: 'anonymizer', cloud: 'anonymizer',
  benign: 'benign', warninglist: 'benign',
};
export function classOfKind(kind) {
  return KIND_CLASS[kind || 'threat'] || 'threat';
}

// Row kinds: a hit with the member's details, a hit of a member that discloses existence only,
// and one row per indicator for the members that disclose counts only (never named).
export const ROW_HIT = 0;
export const ROW_EXISTENCE = 1;
export const ROW_COUNTS = 2;

const str = (v) => (v === null || v === undefined ? '' : String(v));
const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);

// Strings interned to small integers.
class Dict {
  constructor() {
    this.values = [''];
    this.ids = new Map([['', 0]]);
  }
  id(v) {
    const s = typeof v === 'string' ? v : str(v);
    let k = this.ids.get(s);
    if (k === undefined) {
      k = this.values.length;
      this.values.push(s);
      this.ids.set(s, k);
    }
    return k;
  }
}

// Integer columns are typed arrays grown by doubling (Int32 for interned strings and positions,
// Uint8 for flags and small enums); matched values stay a plain array of strings.
const INT_COLUMNS = ['ind', 'member', 'type', 'category', 'event', 'eventDate', 'first', 'last', 'tags', 'comment', 'uuid', 'count'];
const BYTE_COLUMNS = ['kind', 'rel', 'ids', 'gap'];

export class HitStore {
  constructor() {
    this.reset();
  }

  reset(capacity = 1024) {
    this.dicts = {
      member: new Dict(), type: new Dict(), category: new Dict(), event: new Dict(),
      date: new Dict(), tags: new Dict(), comment: new Dict(), uuid: new Dict(),
    };
    this.n = 0;
    this.capacity = 0;
    for (const c of INT_COLUMNS) this[c] = new Int32Array(0);
    for (const c of BYTE_COLUMNS) this[c] = new Uint8Array(0);
    this.matched = [];
    this.reserve(capacity);
    this.version = (this.version || 0) + 1;
  }

  // Room for `extra` more rows without growing.
  reserve(extra) {
    const need = this.n + extra;
    if (need <= this.capacity) return;
    let cap = Math.max(1024, this.capacity);
    while (cap < need) cap *= 2;
    for (const c of INT_COLUMNS) {
      const a = new Int32Array(cap);
      a.set(this[c].subarray(0, this.n));
      this[c] = a;
    }
    for (const c of BYTE_COLUMNS) {
      const a = new Uint8Array(cap);
      a.set(this[c].subarray(0, this.n));
      this[c] = a;
    }
    this.capacity = cap;
  }

  get length() {
    return this.n;
  }

  add(i, memberName, hit) {
    if (this.n === this.capacity) this.reserve(1);
    const d = this.dicts;
    const h = hit || {};
    const r = this.n;
    const existence = !h.matched && !h.type && !h.category && !h.event_info && !h.event_uuid;
    this.ind[r] = i;
    this.kind[r] = existence ? ROW_EXISTENCE : ROW_HIT;
    this.member[r] = d.member.id(h.member || memberName);
    const rel = RELATIONS.indexOf(h.relation);
    this.rel[r] = rel < 0 ? RELATIONS.length : rel;
    this.type[r] = d.type.id(h.type);
    this.category[r] = d.category.id(h.category);
    this.ids[r] = h.to_ids ? 1 : 0;
    this.gap[r] = h.time_gap === true ? 1 : 0;
    this.matched[r] = str(h.matched);
    this.event[r] = d.event.id(h.event_info);
    this.eventDate[r] = d.date.id(h.event_date);
    this.first[r] = d.date.id(h.first_seen);
    this.last[r] = d.date.id(h.last_seen);
    const tags = h.tags;
    this.tags[r] = d.tags.id(Array.isArray(tags) && tags.length ? tags.map(str).join('\n') : '');
    this.comment[r] = d.comment.id(h.comment);
    this.uuid[r] = d.uuid.id(h.event_uuid);
    this.count[r] = 0;
    this.n = r + 1;
    this.version += 1;
  }

  addCounts(i, n) {
    if (this.n === this.capacity) this.reserve(1);
    const r = this.n;
    for (const c of INT_COLUMNS) this[c][r] = 0;
    for (const c of BYTE_COLUMNS) this[c][r] = 0;
    this.ind[r] = i;
    this.kind[r] = ROW_COUNTS;
    this.rel[r] = RELATIONS.length;
    this.matched[r] = '';
    this.count[r] = n;
    this.n = r + 1;
    this.version += 1;
  }

  memberName(r) {
    return this.dicts.member.values[this.member[r]];
  }

  relation(r) {
    return RELATIONS[this.rel[r]] || '';
  }

  tagList(r) {
    const t = this.dicts.tags.values[this.tags[r]];
    return t ? t.split('\n') : [];
  }
}

export class SearchModel {
  constructor(doc, memberInfo = []) {
    this.members = new Map();   // name -> member status row
    this.memberInfo = new Map(); // name -> GET /members entry (data_kind, sector, ...)
    this.indicators = [];       // by position i
    this.invalid = [];
    this.serverSummary = null;  // the API's summary once the search is done
    this.progress = { members_total: 0, members_done: 0, hits: 0 };
    this.store = new HitStore();
    this.pairs = new Set();     // member \0 i pairs whose hits are in the store
    this.setMemberInfo(memberInfo);
    this.load(doc || {});
  }

  setMemberInfo(list) {
    for (const m of Array.isArray(list) ? list : []) {
      if (m && typeof m === 'object') this.memberInfo.set(str(m.name), m);
    }
  }

  // (Re)loads the whole document. When it carries hits, they replace what the events brought.
  load(doc) {
    this.id = str(doc.id);
    this.label = str(doc.label);
    this.tlp = str(doc.tlp);
    this.owner = str(doc.owner);
    this.created = doc.created;
    this.shared = Boolean(doc.shared);
    this.status = str(doc.status) || 'running';
    this.elapsed_ms = doc.elapsed_ms;
    this.interrupted = str(doc.interrupted);
    this.time_gap_days = Number.isFinite(Number(doc.time_gap_days)) ? Number(doc.time_gap_days) : null;
    this.scope = doc.scope && typeof doc.scope === 'object' ? doc.scope : {};
    if (doc.progress && typeof doc.progress === 'object') this.setProgress(doc.progress);
    for (const m of Array.isArray(doc.members) ? doc.members : []) this.updateMember(m);
    const inds = Array.isArray(doc.indicators) ? doc.indicators : [];
    const withHits = inds.some((ind) => Array.isArray(ind.hits));
    if (withHits) {
      let n = 0;
      for (const ind of inds) n += Array.isArray(ind.hits) ? ind.hits.length : 0;
      this.store.reset(n + 16);
      this.pairs.clear();
    }
    inds.forEach((ind, pos) => {
      const i = Number.isInteger(ind.i) ? ind.i : pos;
      const cur = this.indicator(i);
      cur.value = str(ind.value);
      cur.type = str(ind.type);
      cur.normalized = str(ind.normalized);
      cur.date = str(ind.date);
      cur.serverHeldBy = num(ind.held_by);
      if (Array.isArray(ind.hits)) {
        cur.holders = new Set();
        for (const hit of ind.hits) {
          const m = str(hit && hit.member);
          cur.holders.add(m);
          this.store.add(i, m, hit);
        }
        for (const m of cur.holders) this.pairs.add(`${m}\0${i}`);
      }
    });
    if (withHits) this.addCountRows();
    if (Array.isArray(doc.invalid)) {
      this.invalid = doc.invalid.map((x) => ({ value: str(x && x.value), error: str(x && x.error) }));
    }
    if (doc.summary && typeof doc.summary === 'object' && this.status !== 'running') {
      this.serverSummary = doc.summary;
    }
  }

  addCountRows() {
    for (const ind of this.indicators) {
      const hidden = this.heldBy(ind) - ind.holders.size;
      if (hidden > 0) this.store.addCounts(ind.i, hidden);
    }
  }

  indicator(i) {
    while (this.indicators.length <= i) {
      const n = this.indicators.length;
      this.indicators.push({
        i: n, value: '', type: '', normalized: '', date: '', serverHeldBy: 0, holders: new Set(),
      });
    }
    return this.indicators[i];
  }

  updateMember(m) {
    if (!m || typeof m !== 'object') return null;
    const name = str(m.member);
    const cur = this.members.get(name) || {
      member: name, display_name: '', sector: '', kind: '', disclosure: '', status: 'queued',
      error: '', elapsed_ms: null, hits: 0, relations: [],
    };
    for (const k of ['display_name', 'sector', 'kind', 'disclosure', 'status', 'error']) {
      if (k in m) cur[k] = str(m[k]);
    }
    if ('elapsed_ms' in m) cur.elapsed_ms = m.elapsed_ms;
    if ('hits' in m) cur.hits = m.hits === null ? null : num(m.hits);
    if (Array.isArray(m.relations)) cur.relations = m.relations.map(str);
    this.members.set(name, cur);
    return cur;
  }

  setProgress(p) {
    this.progress = {
      members_total: num(p.members_total),
      members_done: num(p.members_done),
      hits: num(p.hits),
    };
  }

  // Applies one server-sent event; returns what changed: {members: [names], hits, progress, done}.
  apply(type, data) {
    const changed = { members: [], hits: 0, progress: false, done: false };
    if (!data || typeof data !== 'object') return changed;
    if (type === 'member') {
      if (this.updateMember(data)) changed.members.push(str(data.member));
    } else if (type === 'hits') {
      const member = str(data.member);
      for (const entry of Array.isArray(data.indicators) ? data.indicators : []) {
        const i = Number(entry && entry.i);
        if (!Number.isInteger(i) || i < 0 || i > 10_000_000) continue;
        const ind = this.indicator(i);
        if (Number.isFinite(Number(entry.held_by))) ind.serverHeldBy = Number(entry.held_by);
        // A member answers once per search: a replayed stream (or hits the document already
        // brought) adds nothing.
        const pair = `${member}\0${i}`;
        if (this.pairs.has(pair)) continue;
        this.pairs.add(pair);
        const hits = Array.isArray(entry.hits) ? entry.hits : [];
        if (hits.length) ind.holders.add(member);
        for (const hit of hits) this.store.add(i, member, hit);
        changed.hits += hits.length;
      }
    } else if (type === 'progress') {
      this.setProgress(data);
      changed.progress = true;
    } else if (type === 'done') {
      this.serverSummary = data.summary && typeof data.summary === 'object' ? data.summary : data;
      if (this.status === 'running') this.status = str(data.status) || 'done';
      changed.done = true;
      changed.progress = true;
    }
    return changed;
  }

  // "held by k": the API's held_by (which also counts members that disclose counts only), or
  // while streaming, at least the members seen so far.
  heldBy(ind) {
    return Math.max(ind.serverHeldBy, ind.holders.size);
  }

  membersTotal() {
    return Math.max(this.progress.members_total, this.members.size);
  }

  membersDone() {
    let n = 0;
    for (const m of this.members.values()) if (FINAL_MEMBER_STATUSES.has(m.status)) n += 1;
    return Math.max(n, this.progress.members_done);
  }

  matchedCount() {
    let n = 0;
    for (const ind of this.indicators) if (this.heldBy(ind) > 0) n += 1;
    return n;
  }

  unmatched() {
    return this.indicators.filter((ind) => this.heldBy(ind) === 0);
  }

  displayName(member) {
    const m = this.members.get(member);
    if (m && m.display_name) return m.display_name;
    const info = this.memberInfo.get(member);
    return (info && info.display_name) || member;
  }

  classOf(member) {
    const info = this.memberInfo.get(member);
    return classOfKind(info ? info.data_kind : '');
  }

  // The API's summary when the search is done; while it runs, the same figures from what has
  // arrived (hits per member, per hit type, per relation), and per class either way.
  summary() {
    const st = this.store;
    const byClass = {};
    const live = { hits: 0, by_member: {}, by_type: {}, by_relation: {} };
    for (let r = 0; r < st.length; r += 1) {
      if (st.kind[r] === ROW_COUNTS) continue;
      const m = st.memberName(r);
      bump(byClass, this.classOf(m));
      live.hits += 1;
      bump(live.by_member, m);
      const type = st.dicts.type.values[st.type[r]];
      if (type) bump(live.by_type, type);
      const rel = st.relation(r);
      if (rel) bump(live.by_relation, rel);
    }
    if (this.serverSummary && this.status !== 'running') {
      const s = this.serverSummary;
      return {
        indicators: num(s.indicators ?? this.indicators.length),
        matched: num(s.matched ?? this.matchedCount()),
        hits: num(s.hits),
        by_member: objOf(s.by_member),
        by_type: objOf(s.by_type),
        by_relation: objOf(s.by_relation),
        by_class: byClass,
        final: true,
      };
    }
    return {
      indicators: this.indicators.length, matched: this.matchedCount(), ...live, by_class: byClass,
      final: false,
    };
  }

  // The small part of the state the page draws outside the result rows.
  snapshot(listLimit = 2000) {
    const unmatched = this.unmatched();
    return {
      id: this.id, label: this.label, tlp: this.tlp, owner: this.owner, created: this.created,
      shared: this.shared, status: this.status, elapsed_ms: this.elapsed_ms,
      interrupted: this.interrupted, time_gap_days: this.time_gap_days, scope: this.scope,
      progress: this.progress, membersTotal: this.membersTotal(), membersDone: this.membersDone(),
      members: [...this.members.values()].map((m) => ({ ...m, class: this.classOf(m.member) })),
      summary: this.summary(),
      rows: this.store.length,
      rowsVersion: this.store.version,
      invalid: this.invalid.slice(0, listLimit),
      invalidTotal: this.invalid.length,
      unmatched: unmatched.slice(0, listLimit).map((x) => ({ value: x.value || x.normalized, type: x.type })),
      unmatchedTotal: unmatched.length,
    };
  }
}

// ------------------------------------------------------------------ filtering and sorting

export const SORT_KEYS = ['indicator', 'member', 'relation', 'matched', 'type', 'class', 'event', 'gap', 'seen'];
export const FACETS = ['member', 'relation', 'type', 'class', 'gap'];
export const EMPTY_FILTERS = { text: '', member: '', relation: '', type: '', class: '', gap: '' };

// Rows of a model in a filtered, sorted order, a window at a time, with per-facet counts: for
// each facet value, the rows that would show if it were chosen with the other filters as they
// are. Sorts are computed once per (key, direction, store version) and filters scan the sorted
// order once per change.
export class ResultQuery {
  constructor(model) {
    this.model = model;
    this.sorted = new Map();  // "key dir" -> Uint32Array of rows
    this.version = -1;
    this.last = null;         // {sig, rows: Uint32Array, facets}
  }

  refresh() {
    if (this.version === this.model.store.version) return;
    this.version = this.model.store.version;
    this.sorted.clear();
    this.last = null;
    this.memberRank = null;
  }

  // The rank of every member name (display name order) and class per member dict id.
  memberTables() {
    if (this.memberRank) return;
    const m = this.model;
    const names = m.store.dicts.member.values;
    const order = names.map((n, k) => [m.displayName(n).toLowerCase(), k]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
    this.memberRank = new Uint32Array(names.length);
    order.forEach(([, k], rank) => { this.memberRank[k] = rank; });
    this.memberClass = names.map((n) => (n ? m.classOf(n) : ''));
    this.memberLower = names.map((n) => `${n}\n${m.displayName(n)}`.toLowerCase());
  }

  // Ranks of the distinct values of a string column (code-unit order, '' last).
  static rankStrings(values) {
    const order = values.map((v, k) => k).sort((a, b) => {
      const x = values[a];
      const y = values[b];
      if (x === y) return 0;
      if (!x) return 1;
      if (!y) return -1;
      return x < y ? -1 : 1;
    });
    const rank = new Uint32Array(values.length);
    let r = 0;
    order.forEach((k, pos) => {
      if (pos > 0 && values[order[pos - 1]] !== values[k]) r += 1;
      rank[k] = r;
    });
    return rank;
  }

  // The default order: input order of the indicators, then member, relation.
  baseOrder() {
    const key = 'indicator asc';
    let perm = this.sorted.get(key);
    if (perm) return perm;
    this.memberTables();
    const st = this.model.store;
    const n = st.length;
    // (the portal sends each member's hits of an indicator sorted by relation and value, so the
    // arrival order breaks the remaining ties)
    const mr = this.memberRank;
    const { ind, kind, member, rel } = st;
    perm = new Uint32Array(n);
    for (let r = 0; r < n; r += 1) perm[r] = r;
    perm.sort((a, b) => ind[a] - ind[b] || kind[a] - kind[b] || mr[member[a]] - mr[member[b]] ||
      rel[a] - rel[b] || a - b);
    this.sorted.set(key, perm);
    return perm;
  }

  sortKeyOf(key) {
    const st = this.model.store;
    const n = st.length;
    const k = new Float64Array(n);
    const dictRank = (dict) => ResultQuery.rankStrings(dict.values);
    if (key === 'member') {
      this.memberTables();
      for (let r = 0; r < n; r += 1) k[r] = st.kind[r] === ROW_COUNTS ? 1e9 : this.memberRank[st.member[r]];
    } else if (key === 'relation') {
      for (let r = 0; r < n; r += 1) k[r] = st.rel[r];
    } else if (key === 'matched') {
      const rank = ResultQuery.rankStrings(st.matched);
      for (let r = 0; r < n; r += 1) k[r] = rank[r];
    } else if (key === 'type') {
      const rank = dictRank(st.dicts.type);
      for (let r = 0; r < n; r += 1) k[r] = rank[st.type[r]];
    } else if (key === 'class') {
      this.memberTables();
      for (let r = 0; r < n; r += 1) {
        const c = CLASSES.indexOf(this.memberClass[st.member[r]]);
        k[r] = c < 0 ? CLASSES.length : c;
      }
    } else if (key === 'event') {
      const rank = dictRank(st.dicts.date);
      for (let r = 0; r < n; r += 1) k[r] = rank[st.eventDate[r]];
    } else if (key === 'gap') {
      for (let r = 0; r < n; r += 1) k[r] = 1 - st.gap[r];
    } else if (key === 'seen') {
      const rank = dictRank(st.dicts.date);
      for (let r = 0; r < n; r += 1) k[r] = rank[st.last[r] || st.first[r] || st.eventDate[r]];
    }
    return k;
  }

  order(key, dir) {
    if (!SORT_KEYS.includes(key)) key = 'indicator';
    const desc = dir === 'desc';
    const sig = `${key} ${desc ? 'desc' : 'asc'}`;
    let perm = this.sorted.get(sig);
    if (perm) return perm;
    const base = this.baseOrder();
    const n = base.length;
    if (key === 'indicator') {
      perm = desc ? base.slice().reverse() : base;
    } else {
      // (key, position in the default order) packed into one float and sorted without a
      // comparator: exact for key ranks < 2^31 and up to 2^21 rows.
      const keys = this.sortKeyOf(key);
      let max = 0;
      for (let r = 0; r < n; r += 1) if (keys[r] > max) max = keys[r];
      const scale = 2 ** Math.max(21, Math.ceil(Math.log2(n + 1)));
      const packed = new Float64Array(n);
      for (let pos = 0; pos < n; pos += 1) {
        const r = base[pos];
        const kv = desc ? max - keys[r] : keys[r];
        packed[pos] = kv * scale + pos;
      }
      packed.sort();
      perm = new Uint32Array(n);
      for (let j = 0; j < n; j += 1) perm[j] = base[packed[j] % scale];
    }
    this.sorted.set(sig, perm);
    return perm;
  }

  // The rows passing `filters` in `sort` order, and the counts per facet value.
  run(filters = EMPTY_FILTERS, sort = { key: 'indicator', dir: 'asc' }) {
    this.refresh();
    const f = { ...EMPTY_FILTERS, ...filters };
    const sig = JSON.stringify([f, sort.key, sort.dir]);
    if (this.last && this.last.sig === sig) return this.last;
    this.memberTables();
    const model = this.model;
    const st = model.store;
    const perm = this.order(sort.key, sort.dir);
    const q = str(f.text).trim().toLowerCase();
    const d = st.dicts;
    // per dictionary entry / indicator: does the text occur?
    let indOk = null;
    let memberOk = null;
    let typeOk = null;
    let catOk = null;
    let eventOk = null;
    let tagsOk = null;
    let commentOk = null;
    if (q) {
      const has = (s) => s.toLowerCase().includes(q);
      indOk = model.indicators.map((x) => has(x.value) || has(x.normalized) || has(x.type));
      memberOk = this.memberLower.map((s) => s.includes(q));
      typeOk = d.type.values.map(has);
      catOk = d.category.values.map(has);
      eventOk = d.event.values.map(has);
      tagsOk = d.tags.values.map(has);
      commentOk = d.comment.values.map(has);
    }
    const relWanted = f.relation ? RELATIONS.indexOf(f.relation) : -1;
    const memberWanted = f.member ? d.member.ids.get(f.member) ?? -2 : -1;
    const typeWanted = f.type ? d.type.ids.get(f.type) ?? -2 : -1;
    const gapWanted = f.gap === 'gap' ? 1 : f.gap === 'nogap' ? 0 : -1;
    const classWanted = f.class || '';
    const facets = { member: new Map(), relation: new Map(), type: new Map(), class: new Map(), gap: new Map() };
    const bumpF = (m, k) => m.set(k, (m.get(k) || 0) + 1);
    const out = new Uint32Array(perm.length);
    let total = 0;
    for (let j = 0; j < perm.length; j += 1) {
      const r = perm[j];
      const counts = st.kind[r] === ROW_COUNTS;
      let textPass = true;
      if (q) {
        textPass = indOk[st.ind[r]] || memberOk[st.member[r]] || typeOk[st.type[r]] ||
          catOk[st.category[r]] || eventOk[st.event[r]] || tagsOk[st.tags[r]] ||
          commentOk[st.comment[r]] || st.matched[r].toLowerCase().includes(q);
      }
      if (!textPass) continue;
      const cls = this.memberClass[st.member[r]];
      const pm = memberWanted === -1 || st.member[r] === memberWanted;
      const pr = relWanted === -1 || st.rel[r] === relWanted;
      const pt = typeWanted === -1 || st.type[r] === typeWanted;
      const pc = !classWanted || cls === classWanted;
      const pg = gapWanted === -1 || (!counts && st.gap[r] === gapWanted);
      const fails = !pm + !pr + !pt + !pc + !pg;
      if (fails > 1) continue;
      if (fails === 0) out[total++] = r;
      // rows of members that disclose counts only have no member, relation, type, class or gap
      if (counts) continue;
      if (pr && pt && pc && pg) bumpF(facets.member, d.member.values[st.member[r]]);
      if (pm && pt && pc && pg) bumpF(facets.relation, RELATIONS[st.rel[r]] || '');
      if (pm && pr && pc && pg) bumpF(facets.type, d.type.values[st.type[r]]);
      if (pm && pr && pt && pg) bumpF(facets.class, cls);
      if (pm && pr && pt && pc) bumpF(facets.gap, st.gap[r] ? 'gap' : 'nogap');
    }
    const plain = {};
    for (const [k, m] of Object.entries(facets)) plain[k] = Object.fromEntries(m);
    this.last = { sig, rows: out.subarray(0, total), total, all: st.length, facets: plain };
    return this.last;
  }

  // A row as the page shows it (and as the drawer details it).
  row(r, pos) {
    const model = this.model;
    const st = model.store;
    const ind = model.indicators[st.ind[r]] || { value: '', type: '', normalized: '', date: '' };
    const member = st.memberName(r);
    const m = model.members.get(member) || {};
    const d = st.dicts;
    return {
      pos,
      r,
      i: st.ind[r],
      kind: st.kind[r],
      value: ind.value || ind.normalized,
      indType: ind.type,
      normalized: ind.normalized,
      indDate: ind.date,
      heldBy: model.heldBy(ind),
      membersTotal: model.membersTotal(),
      member,
      display: member ? model.displayName(member) : '',
      sector: str(m.sector || (model.memberInfo.get(member) || {}).sector),
      disclosure: str(m.disclosure || (model.memberInfo.get(member) || {}).disclosure),
      class: member ? model.classOf(member) : '',
      relation: st.relation(r),
      matched: st.matched[r],
      type: d.type.values[st.type[r]],
      category: d.category.values[st.category[r]],
      toIds: st.ids[r] === 1,
      gap: st.gap[r] === 1,
      eventInfo: d.event.values[st.event[r]],
      eventDate: d.date.values[st.eventDate[r]],
      eventUuid: d.uuid.values[st.uuid[r]],
      firstSeen: d.date.values[st.first[r]],
      lastSeen: d.date.values[st.last[r]],
      tags: st.tagList(r),
      comment: d.comment.values[st.comment[r]],
      count: st.count[r],
      timeGapDays: model.time_gap_days,
    };
  }

  window(result, from, to) {
    const rows = [];
    const end = Math.min(to, result.total);
    for (let pos = Math.max(0, from); pos < end; pos += 1) rows.push(this.row(result.rows[pos], pos));
    return rows;
  }

  // The filtered rows as CSV, with the columns of the portal's CSV export; rows of members that
  // disclose counts only are not hits and are left out. At most `limit` rows.
  csv(result, limit = Infinity) {
    const model = this.model;
    const st = model.store;
    const d = st.dicts;
    const lines = ['query,query_type,member,relation,matched,type,category,event_info,event_date,first_seen,last_seen,to_ids,tags,time_gap'];
    let rows = 0;
    for (let j = 0; j < result.total && rows < limit; j += 1) {
      const r = result.rows[j];
      if (st.kind[r] === ROW_COUNTS) continue;
      const ind = model.indicators[st.ind[r]] || {};
      const full = st.kind[r] === ROW_HIT;
      lines.push([
        ind.value, ind.type, st.memberName(r), st.relation(r), st.matched[r],
        d.type.values[st.type[r]], d.category.values[st.category[r]], d.event.values[st.event[r]],
        d.date.values[st.eventDate[r]], d.date.values[st.first[r]], d.date.values[st.last[r]],
        full ? (st.ids[r] ? '1' : '0') : '', st.tagList(r).join(';'), full ? (st.gap[r] ? '1' : '0') : '',
      ].map(csvField).join(','));
      rows += 1;
    }
    return { text: `${lines.join('\n')}\n`, rows };
  }
}

// One CSV field (RFC 4180), quoted only when it holds a comma, a quote or a line break, as the
// portal's exports write them (common/csv.h CsvField).
export function csvField(v) {
  const s = str(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// The member data's own day for a hit, as the portal compares it for the time-gap flag
// (search_job.cc HitTime): last seen, else first seen, else the event date.
export function hitDay(row) {
  for (const s of [row.lastSeen, row.firstSeen, row.eventDate]) {
    if (s && /^\d{4}-\d{2}-\d{2}/.test(s)) return s.slice(0, 10);
  }
  return '';
}

// Whole days between two YYYY-MM-DD days.
export function daysBetween(a, b) {
  const t = (s) => Date.parse(`${s.slice(0, 10)}T00:00:00Z`);
  const x = t(a);
  const y = t(b);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
  return Math.round(Math.abs(y - x) / 86400000);
}

export function relRank(r) {
  const k = RELATIONS.indexOf(r);
  return k < 0 ? RELATIONS.length : k;
}

function bump(obj, key) {
  obj[key] = (obj[key] || 0) + 1;
}

function objOf(v) {
  const out = {};
  if (v && typeof v === 'object') for (const [k, n] of Object.entries(v)) out[str(k)] = num(n);
  return out;
}

// Turns the "list" textarea into indicator values: one per line, blank lines and # comments
// skipped, surrounding whitespace trimmed.
export function parseList(text) {
  return str(text)
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}
