// Checks run on a live page by the browser tests: every visible text from the catalog (or
// marked as data), axe-core's accessibility rules, and the keyboard focus order with a visible
// focus indicator.

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { WEB_DIR } from './harness.mjs';
import { literalPieces } from '../i18n.js';

const require = createRequire(import.meta.url);

export const CATALOGS = {
  en: JSON.parse(fs.readFileSync(path.join(WEB_DIR, 'i18n', 'en.json'), 'utf8')),
  ja: JSON.parse(fs.readFileSync(path.join(WEB_DIR, 'i18n', 'ja.json'), 'utf8')),
};

// key -> the literal pieces of its message (every branch), trimmed, those with a letter or a
// character of a script only: what the rendered text must contain.
function pieces(lang) {
  const out = {};
  for (const [k, v] of Object.entries(CATALOGS[lang])) {
    out[k] = literalPieces(v).map((p) => p.trim()).filter((p) => /[\p{L}]/u.test(p));
  }
  return out;
}

// Walks the page's visible text nodes, its labelling attributes and its title. A text must sit
// in an element marked data-i18n (a key of both catalogs, and the text holds a literal piece of
// that key's message in `lang`) or data-user (user or server data). Returns the problems.
export async function checkTexts(page, lang) {
  const other = lang === 'ja' ? 'en' : 'ja';
  return page.evaluate(({ lang: want, pieces: ps, otherKeys }) => {
    const problems = [];
    const describe = (el) => {
      const parts = [];
      for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
        parts.unshift(e.tagName.toLowerCase() + (e.id ? `#${e.id}` : '') + (e.className && typeof e.className === 'string' ? `.${e.className.trim().split(/\s+/).join('.')}` : ''));
      }
      return parts.join(' > ');
    };
    const visible = (el) => {
      if (!el || !el.checkVisibility) return true;
      if (el.closest('option')) return true;  // the options of a visible select
      return el.checkVisibility({ checkOpacity: false, checkVisibilityCSS: true });
    };
    const marked = (el) => el.closest('[data-i18n], [data-user]');
    const checkKey = (key, text, where) => {
      if (!(key in ps) || !otherKeys.includes(key)) {
        problems.push(`${where}: key "${key}" missing in a catalog`);
        return;
      }
      const lits = ps[key];
      if (lits.length && !lits.some((p) => text.includes(p))) {
        problems.push(`${where}: "${text.slice(0, 80)}" is not the ${want} message of "${key}"`);
      }
    };
    if (document.documentElement.lang !== want) problems.push(`<html lang="${document.documentElement.lang}">, showing ${want}`);
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let seen = 0;
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.nodeValue.trim();
      if (!text) continue;
      const el = n.parentElement;
      if (!el || el.closest('script, style, noscript, template')) continue;
      if (!visible(el)) continue;
      seen += 1;
      const m = marked(el);
      if (!m) {
        problems.push(`${describe(el)}: "${text.slice(0, 80)}" is not from the catalog`);
      } else if (!m.hasAttribute('data-user')) {
        checkKey(m.getAttribute('data-i18n'), m.textContent, describe(m));
      }
    }
    for (const el of document.body.querySelectorAll('[title], [aria-label], [placeholder], [alt]')) {
      for (const attr of ['title', 'aria-label', 'placeholder', 'alt']) {
        if (!el.hasAttribute(attr) || !el.getAttribute(attr).trim()) continue;
        if (el.closest('[data-user]') && !el.hasAttribute(`data-i18n-${attr}`)) continue;
        const key = el.getAttribute(`data-i18n-${attr}`);
        if (!key) problems.push(`${describe(el)}: ${attr}="${el.getAttribute(attr).slice(0, 60)}" is not from the catalog`);
        else checkKey(key, el.getAttribute(attr), `${describe(el)} [${attr}]`);
      }
    }
    checkKey('title.page', document.title, '<title>');
    return { problems, seen };
  }, { lang, pieces: pieces(lang), otherKeys: Object.keys(CATALOGS[other]) });
}

// axe-core's rules (WCAG 2.x A and AA, best practices) on the page as it is now; returns the
// serious and critical violations. The script goes in through the DevTools protocol, which the
// page's Content-Security-Policy does not govern.
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary.split('\n').slice(0, 2).join(' ')}`),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

// Presses Tab from the top of the page up to `max` times: every stop must show a focus
// indicator (an outline or a box shadow) and come after the previous one in document order
// (no positive tabindex, no jumps back), ending when focus leaves the page or wraps. Returns
// {stops, problems}.
export async function focusWalk(page, max = 60) {
  // start from the top of the document: focus <html> for a moment, so the next Tab goes to the
  // first focusable element
  await page.evaluate(() => {
    const root = document.documentElement;
    root.setAttribute('tabindex', '-1');
    root.focus();
    root.removeAttribute('tabindex');
    window.scrollTo(0, 0);
  });
  const stops = [];
  const problems = [];
  for (let k = 0; k < max; k += 1) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate((prevIndex) => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const all = [...document.querySelectorAll('*')];
      const index = all.indexOf(el);
      const cs = getComputedStyle(el);
      const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
      const shadow = cs.boxShadow && cs.boxShadow !== 'none';
      // a checkbox or radio inside a label styled as a control shows focus on the label
      const holder = el.closest('.seg');
      const holderFocus = holder ? getComputedStyle(holder).outlineStyle !== 'none' : false;
      const r = el.getBoundingClientRect();
      return {
        index, backwards: prevIndex >= 0 && index < prevIndex,
        name: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('data-i18n') ? `[${el.getAttribute('data-i18n')}]` : ''}`,
        visibleFocus: outline || shadow || holderFocus,
        onScreen: r.width > 0 && r.height > 0,
      };
    }, stops.length ? stops[stops.length - 1].index : -1);
    if (!info) break;
    if (info.backwards) break;  // wrapped around to the top
    stops.push(info);
    if (!info.visibleFocus) problems.push(`${info.name}: no visible focus indicator`);
    if (!info.onScreen) problems.push(`${info.name}: focused but not on screen`);
  }
  return { stops, problems };
}
