// Tiny DOM builder. Every piece of text goes through textContent / createTextNode, so nothing a
// server or a user wrote is ever parsed as HTML. There is no innerHTML anywhere in this UI.

// h('tag#id.class1.class2', {attr: value, on: {click: fn}}, child, child...)
// Children: strings/numbers (become text nodes), Nodes, arrays (flattened), null/false (skipped).
export function h(spec, attrs, ...children) {
  const [head, ...classes] = spec.split('.');
  const [tag, id] = head.split('#');
  const el = document.createElement(tag || 'div');
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'on') {
        for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      } else if (k === 'class') {
        el.className = [el.className, v].filter(Boolean).join(' ');
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else if (k === 'text') {
        el.textContent = String(v);
      } else if (k === 'value') {
        el.value = String(v);
      } else if (k in el && typeof v !== 'string' && k !== 'list') {
        el[k] = v;  // properties: checked, disabled (booleans), value numbers, ...
      } else if (v === true) {
        el.setAttribute(k, '');
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

// Empties el, then appends children (null/false skipped, strings as text).
export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

// "2026-11-26 02:14 UTC" from unix seconds.
export function fmtTime(unix) {
  if (!unix && unix !== 0) return '';
  const d = new Date(Number(unix) * 1000);
  if (Number.isNaN(d.getTime())) return String(unix);
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined || ms === '') return '';
  const n = Number(ms);
  if (!Number.isFinite(n)) return '';
  if (n < 1) return '<1 ms';
  if (n < 1000) return `${n} ms`;
  return `${(n / 1000).toFixed(n < 10000 ? 2 : 1)} s`;
}

export function plural(n, one, many = one + 's') {
  return `${n} ${n === 1 ? one : many}`;
}
