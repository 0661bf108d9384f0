// The state of one search as the UI sees it: built from GET /api/v1/searches/{id} and updated by
// the events of /events (docs/portal-api.md). No DOM here: the view asks what changed and redraws
// only that, so nothing already on screen moves while results stream in.

export const RELATIONS = ['exact', 'component', 'url-host', 'subdomain', 'in-range'];
export const RELATION_HELP = {
  exact: 'the same value',
  component: 'one half of a composite value (domain|ip, ip|port, filename|hash)',
  'url-host': "a URL's host equals a held domain or IP, or the other way round",
  subdomain: 'a subdomain of a held domain',
  'in-range': 'an IP or network overlapping a held IP or CIDR',
};
export const MEMBER_STATUSES = ['queued', 'running', 'done', 'failed', 'timed_out', 'skipped'];
export const STATUS_TEXT = {
  queued: 'queued',
  running: 'running',
  done: 'done',
  failed: 'failed',
  timed_out: 'timed out',
  skipped: 'skipped',
};
export const FINAL_MEMBER_STATUSES = new Set(['done', 'failed', 'timed_out', 'skipped']);

const str = (v) => (v === null || v === undefined ? '' : String(v));
const num = (v) => (Number.isFinite(Number(v)) ? Number(v) : 0);

export class SearchModel {
  constructor(doc) {
    this.members = new Map();   // name -> member status row
    this.indicators = [];       // by position i
    this.invalid = [];
    this.serverSummary = null;  // the API's summary once the search is done
    this.progress = { members_total: 0, members_done: 0, hits: 0 };
    this.load(doc || {});
  }

  // (Re)loads the whole document. Hits from the document replace what the events brought.
  load(doc) {
    this.id = str(doc.id);
    this.label = str(doc.label);
    this.tlp = str(doc.tlp);
    this.owner = str(doc.owner);
    this.created = doc.created;
    this.shared = Boolean(doc.shared);
    this.status = str(doc.status) || 'running';
    this.elapsed_ms = doc.elapsed_ms;
    if (doc.progress && typeof doc.progress === 'object') this.setProgress(doc.progress);
    for (const m of Array.isArray(doc.members) ? doc.members : []) this.updateMember(m);
    const inds = Array.isArray(doc.indicators) ? doc.indicators : [];
    inds.forEach((ind, pos) => {
      const i = Number.isInteger(ind.i) ? ind.i : pos;
      const cur = this.indicator(i);
      cur.value = str(ind.value);
      cur.type = str(ind.type);
      cur.normalized = str(ind.normalized);
      cur.date = str(ind.date);
      cur.serverHeldBy = num(ind.held_by);
      if (Array.isArray(ind.hits)) {
        cur.hitsByMember = new Map();
        for (const hit of ind.hits) {
          const m = str(hit && hit.member);
          if (!cur.hitsByMember.has(m)) cur.hitsByMember.set(m, []);
          cur.hitsByMember.get(m).push(hit);
        }
      }
    });
    if (Array.isArray(doc.invalid)) {
      this.invalid = doc.invalid.map((x) => ({ value: str(x && x.value), error: str(x && x.error) }));
    }
    if (doc.summary && typeof doc.summary === 'object' && this.status !== 'running') {
      this.serverSummary = doc.summary;
    }
  }

  indicator(i) {
    while (this.indicators.length <= i) {
      const n = this.indicators.length;
      this.indicators.push({
        i: n, value: '', type: '', normalized: '', date: '', serverHeldBy: 0,
        hitsByMember: new Map(),
      });
    }
    return this.indicators[i];
  }

  updateMember(m) {
    if (!m || typeof m !== 'object') return null;
    const name = str(m.member);
    const cur = this.members.get(name) || {
      member: name, display_name: '', status: 'queued', error: '', elapsed_ms: null, hits: 0,
      relations: [],
    };
    for (const k of ['display_name', 'status', 'error']) if (k in m) cur[k] = str(m[k]);
    if ('elapsed_ms' in m) cur.elapsed_ms = m.elapsed_ms;
    if ('hits' in m) cur.hits = num(m.hits);
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

  // Applies one server-sent event; returns what changed:
  // {members: [names], indicators: [i], progress, done}.
  apply(type, data) {
    const changed = { members: [], indicators: [], progress: false, done: false };
    if (!data || typeof data !== 'object') return changed;
    if (type === 'member') {
      if (this.updateMember(data)) changed.members.push(str(data.member));
    } else if (type === 'hits') {
      const member = str(data.member);
      for (const entry of Array.isArray(data.indicators) ? data.indicators : []) {
        const i = Number(entry && entry.i);
        if (!Number.isInteger(i) || i < 0) continue;
        const ind = this.indicator(i);
        // A member answers once per search: its hits for an indicator replace any earlier copy
        // (the stream replays from the beginning, the document may already hold them).
        ind.hitsByMember.set(member, Array.isArray(entry.hits) ? entry.hits : []);
        if (Number.isFinite(Number(entry.held_by))) ind.serverHeldBy = Number(entry.held_by);
        changed.indicators.push(i);
      }
    } else if (type === 'progress') {
      this.setProgress(data);
      changed.progress = true;
    } else if (type === 'done') {
      this.serverSummary = data.summary && typeof data.summary === 'object' ? data.summary : data;
      if (this.status === 'running') this.status = 'done';
      changed.done = true;
      changed.progress = true;
    }
    return changed;
  }

  // Hit rows of one indicator, in member order (as the members panel lists them), then by
  // relation strength, then by matched value.
  hits(ind) {
    const order = [...this.members.keys()];
    const rank = (m) => {
      const k = order.indexOf(m);
      return k < 0 ? order.length : k;
    };
    const rows = [];
    for (const [member, hits] of ind.hitsByMember) {
      for (const hit of hits) rows.push({ ...hit, member: str(hit.member) || member });
    }
    rows.sort((a, b) =>
      rank(a.member) - rank(b.member) ||
      relRank(a.relation) - relRank(b.relation) ||
      str(a.matched).localeCompare(str(b.matched)));
    return rows;
  }

  // Members whose rows we can show (full or existence disclosure).
  namedHolders(ind) {
    const names = new Set();
    for (const [member, hits] of ind.hitsByMember) if (hits.length) names.add(member);
    return names;
  }

  // "held by k": the API's held_by (which also counts members that disclose counts only), or
  // while streaming, at least the members seen so far.
  heldBy(ind) {
    return Math.max(ind.serverHeldBy, this.namedHolders(ind).size);
  }

  membersTotal() {
    return Math.max(this.progress.members_total, this.members.size);
  }

  membersDone() {
    let n = 0;
    for (const m of this.members.values()) if (FINAL_MEMBER_STATUSES.has(m.status)) n += 1;
    return Math.max(n, this.progress.members_done);
  }

  matched() {
    return this.indicators.filter((ind) => this.heldBy(ind) > 0);
  }

  unmatched() {
    return this.indicators.filter((ind) => this.heldBy(ind) === 0);
  }

  // The API's summary when the search is done; while it runs, the same figures from what has
  // arrived (hits per member, per hit type, per relation).
  summary() {
    if (this.serverSummary && this.status !== 'running') {
      const s = this.serverSummary;
      return {
        indicators: num(s.indicators ?? this.indicators.length),
        matched: num(s.matched ?? this.matched().length),
        hits: num(s.hits),
        by_member: objOf(s.by_member),
        by_type: objOf(s.by_type),
        by_relation: objOf(s.by_relation),
        final: true,
      };
    }
    const out = {
      indicators: this.indicators.length, matched: 0, hits: 0, by_member: {}, by_type: {},
      by_relation: {}, final: false,
    };
    for (const ind of this.indicators) {
      if (this.heldBy(ind) > 0) out.matched += 1;
      for (const [member, hits] of ind.hitsByMember) {
        for (const hit of hits) {
          out.hits += 1;
          bump(out.by_member, str(hit.member) || member);
          if (hit.type) bump(out.by_type, str(hit.type));
          if (hit.relation) bump(out.by_relation, str(hit.relation));
        }
      }
    }
    return out;
  }
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
