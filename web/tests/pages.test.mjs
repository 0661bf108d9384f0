// Every page of the UI in Japanese and in English, in a real Chromium against the real portal:
// the language comes from the browser's preference, then from the header switch (remembered);
// every visible text, label, tooltip and the title come from the catalog of the language shown
// (or are marked as data); axe-core finds no serious or critical violation; Tab walks the page
// in order with a visible focus ring; the pages fit a 390-pixel phone. Screenshots of the main
// pages in both languages go to web/tests/screenshots/docs/, or with `make screenshots` to
// docs/screenshots/ (shown in README.md and README.ja.md).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { DATA, DOC_SCREENSHOTS, apiCall, launchBrowser, startAlliance } from './harness.mjs';
import { CATALOGS, axeViolations, checkTexts, focusWalk } from './checks.mjs';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

// Two finished searches to show: a list with hits of every kind, and a CSV with a time gap.
async function searches(alliance) {
  const run = async (body) => {
    const created = await apiCall(alliance, '/api/v1/searches', { method: 'POST', body });
    assert.equal(created.status, 201, created.text);
    for (let k = 0; k < 200; k += 1) {
      const d = await apiCall(alliance, `/api/v1/searches/${created.json.id}`);
      if (d.json.status !== 'running') return created.json.id;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('search did not finish');
  };
  const members = ['honeypot', 'anonymity', 'vendor', 'agency', 'offline'];
  const list = await run({
    indicators: ['198.51.100.7', '203.0.113.9', 'evil[.]example', 'www.bad.example', '192.0.2.55', 'not an indicator'],
    members, label: 'APT-C-60 phishing wave', tlp: 'amber', shared: true,
  });
  const dated = await run({
    csv: 'type,value,date\nip-dst,198.51.100.8,2012-05-01\ndomain,evil.example,2026-01-15\n',
    members, label: '2012 campaign re-check', tlp: 'green',
  });
  // A sift of a small access log: two clients the honeypot holds (its Sequoia list), one
  // nobody holds, one internal address and one malformed line.
  const scanners = fs.readFileSync(DATA.sequoia, 'utf8').split('\n').filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l)).slice(0, 2);
  const log = [
    ...scanners.map((ip) => `${ip} - - [22/Oct/2021:03:00:00 -0700] "GET /wp-login.php HTTP/1.1" 404 196 "-" "zgrab/0.x"`),
    '1.2.3.4 - - [22/Oct/2021:03:00:01 -0700] "GET / HTTP/1.1" 200 512 "-" "Mozilla/5.0"',
    '10.0.0.8 - - [22/Oct/2021:03:00:02 -0700] "GET /health HTTP/1.1" 200 2 "-" "curl/8.0"',
    'this line is not an access log line',
    '',
  ].join('\n');
  const res = await fetch(`${alliance.url}/api/v1/sifts?label=${encodeURIComponent('Web frontend, October')}&format=combined`, {
    method: 'POST', headers: { Authorization: alliance.key, Accept: 'application/json' }, body: log,
  });
  assert.equal(res.status, 201, await res.clone().text());
  const sift = (await res.json()).id;
  for (let k = 0; ; k += 1) {
    const d = await apiCall(alliance, `/api/v1/sifts/${sift}`);
    if (d.json.status !== 'searching' && d.json.status !== 'uploading') break;
    if (k > 400) throw new Error('sift did not finish');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { list, dated, sift };
}

describe('every page in Japanese and English', { timeout: 240_000 }, () => {
  let alliance;
  let ids;
  const shots = [];

  before(async () => {
    alliance = await startAlliance();
    ids = await searches(alliance);
    fs.mkdirSync(DOC_SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    if (alliance) await alliance.stop();
    if (shots.length) console.log(`# screenshots: ${shots.join(', ')}`);
  });

  for (const lang of ['ja', 'en']) {
    test(`${lang}: each page's texts, accessibility, focus order and phone width`, async () => {
      const browser = await launchBrowser({ colorScheme: 'light', viewport: DESKTOP, locale: lang === 'ja' ? 'ja-JP' : 'en-US' });
      const { page } = browser;
      const report = [];
      const check = async (name, { focus = true, shot = null } = {}) => {
        await page.evaluate(() => document.fonts.ready);
        const texts = await checkTexts(page, lang);
        assert.deepEqual(texts.problems, [], `${lang} ${name}: texts`);
        assert.ok(texts.seen > 5, `${lang} ${name}: texts were walked (${texts.seen})`);
        const axe = await axeViolations(page);
        assert.deepEqual(axe, [], `${lang} ${name}: axe`);
        if (shot) {
          const file = path.join(DOC_SCREENSHOTS, `${shot}-${lang}.png`);
          await page.screenshot({ path: file });
          shots.push(path.basename(file));
        }
        let stops = 0;
        if (focus) {
          const walk = await focusWalk(page);
          assert.deepEqual(walk.problems, [], `${lang} ${name}: focus`);
          assert.ok(walk.stops.length >= 3, `${lang} ${name}: focus stops ${JSON.stringify(walk.stops.map((s) => s.name))}`);
          assert.match(walk.stops[0].name, /^a#skip/, `${lang} ${name}: the skip link comes first`);
          stops = walk.stops.length;
        }
        report.push(`${name} (${texts.seen} texts, ${stops} tab stops)`);
      };
      try {
        // sign-in, in the browser's language
        await page.goto(`${alliance.url}/`);
        await page.locator('#key').waitFor();
        assert.equal(await page.locator('html').getAttribute('lang'), lang);
        assert.equal(await page.locator('#lang').inputValue(), lang);
        await check('sign-in', { shot: 'signin' });
        // a refused key: the error box too
        await page.locator('#key').fill('q'.repeat(40));
        await page.locator('#signin-submit').click();
        await page.locator('#signin-error .api-message').waitFor();
        assert.equal((await page.locator('#signin-error .api-message').textContent()).trim(), CATALOGS[lang]['err.api.authFailed']);
        await check('sign-in error', { focus: false });

        await page.locator('#key').fill(alliance.key);
        await page.locator('#key').press('Enter');
        await page.locator('#member-checks input').first().waitFor();
        await check('new search', { shot: 'new-search' });
        // the form's own error message
        await page.locator('#search-submit').click();
        await page.locator('#form-error .error-box').waitFor();
        await check('new search error', { focus: false });

        await page.goto(`${alliance.url}/#/search/${ids.list}`);
        await page.locator('#results-grid .grid-body .grid-row').first().waitFor();
        await page.locator('#unmatched').waitFor();
        await check('results', { shot: 'results' });
        // the drawer of a full hit, then of a withheld one
        await page.locator('#results-grid .grid-body .grid-row').first().click();
        await page.locator('#hit-drawer[open]').waitFor();
        await check('hit drawer', { focus: false, shot: 'drawer' });
        await page.keyboard.press('Escape');
        await page.locator('#results-grid .grid-body .grid-row', { has: page.locator('.badge.cls[data-cls="threat"]') }).first().click();
        await page.locator('#hit-drawer[open] .withheld-note').waitFor();
        await check('hit drawer, withheld', { focus: false });
        await page.keyboard.press('Escape');

        await page.goto(`${alliance.url}/#/search/${ids.dated}`);
        await page.locator('#results-grid .grid-row.gap').first().click();
        await page.locator('#hit-drawer[open] .gap-explain').waitFor();
        await page.locator('#hit-drawer .gap-explain').scrollIntoViewIfNeeded();
        await check('time gap', { focus: false, shot: 'time-gap' });
        await page.keyboard.press('Escape');

        await page.goto(`${alliance.url}/#/history`);
        await page.locator('.history-table tbody tr').first().waitFor();
        await check('history', { shot: 'history' });
        await page.locator('#history-filter').fill('zzz-nothing');
        await page.locator('#history-nomatch').waitFor();
        await check('history, no match', { focus: false });

        await page.goto(`${alliance.url}/#/members`);
        await page.locator('.member-card').first().waitFor();
        await check('members (analyst)');
        await page.goto(`${alliance.url}/#/sift`);
        await page.locator('#sift-file').waitFor();
        await check('sift a log', { shot: 'sift' });
        await page.locator('#sift-submit').click();
        await page.locator('#sift-error .error-box').waitFor();
        await check('sift a log, no file', { focus: false });
        await page.goto(`${alliance.url}/#/sift/${ids.sift}`);
        await page.locator('#sift-status[data-status="done"]').waitFor();
        await check('sift report', { shot: 'sift-report' });
        // no organisation has reported sightings here: every section's empty state
        await page.goto(`${alliance.url}/#/trends`);
        for (const s of ['sectors', 'rising', 'scanners', 'actors']) await page.locator(`#trends-${s}[data-state="ready"]`).waitFor();
        await check('trends');
        await page.goto(`${alliance.url}/#/nowhere`);
        await check('no such page', { focus: false });
        await page.goto(`${alliance.url}/#/search/does-not-exist`);
        await page.locator('.error-box').waitFor();
        await check('unknown search', { focus: false });

        // the admin's members page: breaker and live check
        await page.locator('#signout').click();
        await page.goto(`${alliance.url}/#/members`);
        await page.locator('#key').fill(alliance.adminKey);
        await page.locator('#key').press('Enter');
        await page.locator('.member-card .probe h3').first().waitFor({ timeout: 20_000 });
        await check('members (admin)', { shot: 'members' });

        // a phone: nothing wider than the screen, the pages still pass
        await page.setViewportSize(PHONE);
        for (const [name, url, ready] of [
          ['new search', '#/new', '#member-checks input'],
          ['results', `#/search/${ids.list}`, '#results-grid .grid-body .grid-row'],
          ['history', '#/history', '.history-table tbody tr'],
          ['members', '#/members', '.member-card'],
          ['sift report', `#/sift/${ids.sift}`, '#sift-status[data-status="done"]'],
          ['trends', '#/trends', '#trends-actors[data-state="ready"]'],
        ]) {
          await page.goto(`${alliance.url}/${url}`);
          await page.locator(ready).first().waitFor();
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(overflow <= 0, `${lang} ${name} at 390 px: ${overflow} px wider than the screen`);
          assert.deepEqual(await axeViolations(page), [], `${lang} ${name} at 390 px: axe`);
          if (name === 'results') {
            await page.locator('#results').evaluate((el) => el.scrollIntoView());
            await page.screenshot({ path: path.join(DOC_SCREENSHOTS, `results-phone-${lang}.png`), fullPage: false });
            shots.push(`results-phone-${lang}.png`);
          }
        }
        assert.deepEqual(browser.errors, []);
        console.log(`# ${lang}: ${report.join('; ')}`);
      } finally {
        await browser.close();
      }
    });
  }

  test('the header switch changes the language in place, and the choice is remembered', async () => {
    const browser = await launchBrowser({ colorScheme: 'dark', viewport: DESKTOP, locale: 'ja-JP' });
    const { page } = browser;
    try {
      await page.goto(`${alliance.url}/`);
      await page.locator('#key').fill(alliance.key);
      await page.locator('#key').press('Enter');
      await page.goto(`${alliance.url}/#/search/${ids.list}`);
      await page.locator('#results-grid .grid-body .grid-row').first().waitFor();
      assert.equal(await page.locator('h2#results-h').textContent(), CATALOGS.ja['results.title']);
      assert.match(await page.locator('#f-relation option[value="exact"]').textContent(), /^完全一致（\d+）$/);
      const before = await page.evaluate(() => document.querySelector('.grid-body').childElementCount);
      await page.locator('#lang').selectOption('en');
      await page.waitForFunction(() => document.documentElement.lang === 'en');
      // the same page, redrawn in English: nothing reloaded, nothing left in Japanese
      assert.equal(await page.locator('h2#results-h').textContent(), CATALOGS.en['results.title']);
      assert.match(await page.locator('#f-relation option[value="exact"]').textContent(), /^exact \(\d+\)$/);
      assert.equal(await page.evaluate(() => document.querySelector('.grid-body').childElementCount), before);
      assert.deepEqual((await checkTexts(page, 'en')).problems, []);
      assert.match(await page.title(), /iocgrid portal$/);
      assert.equal(await page.evaluate(() => localStorage.getItem('iocgrid.lang')), 'en');
      // the browser still prefers Japanese; the choice wins after a reload
      await page.reload();
      await page.locator('#results-grid .grid-body .grid-row').first().waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      assert.equal(await page.locator('#lang').inputValue(), 'en');
      await page.locator('#lang').selectOption('ja');
      await page.waitForFunction(() => document.documentElement.lang === 'ja');
      assert.deepEqual((await checkTexts(page, 'ja')).problems, []);
      assert.match(await page.title(), /iocgrid ポータル$/);
      assert.deepEqual(browser.errors, []);
    } finally {
      await browser.close();
    }
  });
});
