// Tiny DOM builder. Every piece of text goes through textContent / createTextNode, so nothing a
// server or a user wrote is ever parsed as HTML. There is no innerHTML anywhere in this UI.

import { setAttr, setText, markUser } from './i18n.js';

// h('tag#id.class1.class2', {attr: value, on: {click: fn}}, child, child...)
// Children: strings/numbers (become text nodes), Nodes, arrays (flattened), null/false (skipped).
// Text from the catalog: {i18n: ['key', args]} for the content, {i18nAttrs: {title: ['key',
// args]}} for attributes. Data (values, names, labels from the server or the user): {user: true}
// marks the element, and u('text') is a <span data-user> with the text.
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
      } else if (k === 'i18n') {
        continue;  // after the children (below)
      } else if (k === 'i18nAttrs') {
        for (const [attr, [key, args]] of Object.entries(v)) setAttr(el, attr, key, args);
      } else if (k === 'user') {
        markUser(el);
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
  if (attrs && attrs.i18n) setText(el, attrs.i18n[0], attrs.i18n[1] || {});
  return el;
}

// User or server data as text: <span data-user>text</span> (or another spec: u('td.mono', x)).
export function u(text, spec = 'span') {
  const el = h(spec, { user: true });
  el.textContent = text === null || text === undefined ? '' : String(text);
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
