// The Trends page in a real headless Chromium against the real system on loopback: four
// organisations (three in finance, one in energy) report sightings with POST /api/v1/sightings,
// the portal records them under k-anonymity (k = 3), and every number the page shows must be
// the API's (GET /api/v1/trends/…) for the same question. The energy sector (one organisation)
// shows as suppressed with no numbers, and no reporting organisation is named anywhere.
// "Watch rising trends" makes a watchlist of the rising cells, whose page shows the same cells.
//
//   node --test web/tests/

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { DATA, apiCall, screenshotPath, signedInBrowser, startAlliance } from './harness.mjs';
import { CATALOGS, axeViolations, checkTexts } from './checks.mjs';

const K = 3;
const ACTOR = 'Sandworm';
const ORGS = [
  { name: 'bank-north', sector: 'finance' },
  { name: 'bank-south', sector: 'finance' },
  { name: 'bank-east', sector: 'finance' },
  { name: 'grid-power', sector: 'energy' },
];
const USERS = [
  { name: 'north-soc', org: 'bank-north' },
  { name: 'south-soc', org: 'bank-south' },
  { name: 'east-soc', org: 'bank-east' },
  { name: 'grid-soc', org: 'grid-power' },
];
const num = (n) => Number(n ?? 0).toLocaleString('en');
// noon UTC `n` days ago: the day a sighting is recorded under
const daysAgo = (n) => `${new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10)}T12:00:00Z`;

// What each organisation saw. Addresses from the honeypot's Sequoia list are noise (and tagged
// with the actor); 8.8.4.4 and scan.shodan.io nobody holds (unknown, recorded with share=public).
// Finance: s[0] today by all three, s[1] two days ago by all three (shown cells), 8.8.4.4
// yesterday by two and s[2] three days ago by one (suppressed cells); four observable-days of
// ip-dst over an empty baseline, so finance × ip-dst is rising. Energy: one organisation only.
function reports(s) {
  return {
    'north-soc': [
      { value: s[0], count: 5, alerted: true, last_seen: daysAgo(0) },
      { value: s[1], count: 2, last_seen: daysAgo(2) },
      { value: '8.8.4.4', count: 3, last_seen: daysAgo(1) },
      { value: s[2], count: 1, last_seen: daysAgo(3) },
    ],
    'south-soc': [
      { value: s[0], count: 7, alerted: 2, last_seen: daysAgo(0) },
      { value: s[1], count: 1, last_seen: daysAgo(2) },
      { value: 'scan.shodan.io', count: 1, last_seen: daysAgo(0) },
    ],
    'east-soc': [
      { value: s[0], count: 1, last_seen: daysAgo(0) },
      { value: s[1], count: 4, alerted: true, last_seen: daysAgo(2) },
      { value: '8.8.4.4', count: 1, last_seen: daysAgo(1) },
    ],
    'grid-soc': [
      { value: s[0], count: 9, alerted: true, last_seen: daysAgo(0) },
      { value: s[3], count: 2, last_seen: daysAgo(1) },
      { value: s[4], count: 2, last_seen: daysAgo(2) },
      { value: s[5], count: 2, last_seen: daysAgo(3) },
    ],
  };
}

async function report(alliance, key, sightings) {
  const res = await apiCall(alliance, '/api/v1/sightings?share=public', { method: 'POST', key, body: sightings });
  assert.equal(res.status, 202, res.text);
  for (let k = 0; k < 600; k += 1) {
    const s = await apiCall(alliance, `/api/v1/sifts/${res.json.id}`, { key });
    if (s.json.status === 'done') return;
    assert.notEqual(s.json.status, 'interrupted', s.text);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('sightings were not recorded');
}

describe('trends', { timeout: 120_000 }, () => {
  let alliance;
  let browser;
  let page;
  let seq;  // the honeypot's Sequoia addresses

  const trends = async (q) => {
    const r = await apiCall(alliance, `/api/v1/trends/${q}`);
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const ready = async () => {
    for (const s of ['sectors', 'rising', 'scanners', 'actors']) {
      await page.locator(`#trends-${s}:not([data-state="loading"])`).waitFor();
    }
  };
  const texts = (loc) => loc.evaluateAll((els) => els.map((e) => e.textContent.trim()));
  // no reporting organisation (nor its analysts) anywhere on the page, its tooltips and labels
  const nobodyNamed = async () => {
    const all = await page.evaluate(() => `${document.body.innerText}\n${[...document.querySelectorAll('[title], [aria-label], title')].map((e) => e.getAttribute('aria-label') || e.getAttribute('title') || e.textContent).join('\n')}`);
    for (const name of [...ORGS.map((o) => o.name), ...USERS.map((x) => x.name)]) {
      assert.ok(!all.includes(name), `${name} is on the page`);
    }
  };

  before(async () => {
    alliance = await startAlliance({
      extraMembers: false, kAnonymity: K, orgs: ORGS, users: USERS,
      honeypotTags: [`misp-galaxy:threat-actor="${ACTOR}"`],
    });
    seq = fs.readFileSync(DATA.sequoia, 'utf8').split('\n').filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l));
    const sent = reports(seq);
    // every batch is a search of the whole alliance (the slow member included): in parallel
    await Promise.all(Object.entries(sent).map(([user, list]) => report(alliance, alliance.userKeys[user], list)));
    browser = await signedInBrowser(alliance);
    page = browser.page;
  });

  after(async () => {
    if (browser) await browser.close();
    if (alliance) await alliance.stop();
  });

  test('the sector charts show the API\'s numbers; energy (one organisation) is suppressed; nobody is named', async () => {
    await page.getByRole('link', { name: 'Trends' }).click();
    await page.getByRole('heading', { level: 1, name: CATALOGS.en['trends.title'] }).waitFor();
    await ready();
    const api = await trends('sectors?window=7d&bucket=1d');
    assert.equal(api.k_anonymity, K);
    assert.match(await page.locator('#trends-k').textContent(), /k = 3\. Cells from fewer than 3 organisations are hidden; no organisation is ever named\./);
    const suppressedText = `suppressed (fewer than ${K} organisations)`;

    // finance: one table row per day of the window, each the API's cell or "no reports"
    const finance = page.locator('figure[data-sector="finance"]');
    const cells = new Map(api.cells.filter((c) => c.sector === 'finance').map((c) => [c.bucket, c]));
    // three days ago (one organisation), two days ago (three), yesterday (two), today (three)
    assert.deepEqual([...cells.keys()].sort().map((b) => cells.get(b).suppressed), [true, false, true, false], JSON.stringify(api.cells));
    const rows = finance.locator('tbody tr');
    assert.equal(await rows.count(), 7);
    for (const row of await rows.all()) {
      const bucket = await row.getAttribute('data-bucket');
      const c = cells.get(bucket);
      if (!c) {
        assert.equal((await row.locator('td').textContent()).trim(), 'no reports', bucket);
      } else if (c.suppressed) {
        assert.equal((await row.locator('td').textContent()).trim(), suppressedText, bucket);
      } else {
        for (const col of ['organisations', 'observables', 'sightings', 'alerted']) {
          assert.equal((await row.locator(`td[data-col="${col}"]`).textContent()).trim(), num(c[col]), `${bucket} ${col}`);
        }
        for (const [cls, part] of Object.entries(c.by_class)) {
          const shown = (await row.locator(`td[data-col="${cls}"]`).textContent()).trim();
          assert.equal(shown, part.suppressed ? 'suppressed' : num(part.sightings), `${bucket} ${cls}`);
        }
      }
    }
    // the chart: a bar per shown cell, a hatched placeholder per suppressed one, the scale's top
    // the largest bar, and a hidden-classes segment where the API suppressed every class part
    const shownCells = [...cells.values()].filter((c) => !c.suppressed);
    assert.equal(await finance.locator('g.bar-shown').count(), shownCells.length);
    assert.equal(await finance.locator('g.bar-suppressed').count(), cells.size - shownCells.length);
    assert.equal((await finance.locator('.chart-y span').first().textContent()).trim(), num(Math.max(...shownCells.map((c) => c.sightings))));
    const allHidden = shownCells.find((c) => Object.values(c.by_class).every((p) => p.suppressed));
    assert.ok(allHidden, 'today: every class part suppressed (unknown from one organisation)');
    assert.equal(await finance.locator(`g[data-bucket="${allHidden.bucket}"] rect[data-cls="withheld"]`).count(), 1);
    assert.equal((await finance.locator(`tr[data-bucket="${allHidden.bucket}"] td[data-col="withheld"]`).textContent()).trim(), num(allHidden.sightings));
    assert.match(await finance.locator('.suppressed-note').textContent(), /2 bars are suppressed: fewer than 3 organisations/);
    const tip = await finance.locator('g.bar-suppressed title').first().textContent();
    assert.match(tip, /: suppressed \(fewer than 3 organisations\)$/);
    assert.equal(await finance.locator('svg[role="img"]').getAttribute('aria-label'),
      'Bar chart of sightings per day in finance; the table below has the numbers.');

    // energy: suppressed everywhere, not a single number
    const energy = page.locator('figure[data-sector="energy"]');
    const energyCells = api.cells.filter((c) => c.sector === 'energy');
    assert.ok(energyCells.length >= 4 && energyCells.every((c) => c.suppressed), JSON.stringify(energyCells));
    assert.equal(await energy.locator('g.bar-shown').count(), 0);
    assert.equal(await energy.locator('g.bar-suppressed').count(), energyCells.length);
    assert.equal(await energy.locator('.chart-y span').count(), 0, 'no scale');
    assert.equal((await energy.locator('.suppressed-note').textContent()).trim(),
      'Every period of this sector comes from fewer than 3 organisations: no numbers are shown.');
    for (const td of await texts(energy.locator('tbody td'))) assert.ok(td === suppressedText || td === 'no reports', td);
    assert.equal(await energy.locator('td[data-col]').count(), 0);

    // no reporting organisation (nor its analysts) appears anywhere
    await nobodyNamed();

    // observables instead of sightings: the same bars, the table's class columns follow
    await page.locator('label[for="trends-measure-observables"]').click();
    await finance.locator('thead th[data-cls="noise"]', { hasText: 'observables' }).waitFor({ state: 'attached' });
    assert.match(page.url(), /#\/trends\?window=7d&bucket=1d&min_orgs=2&measure=observables$/);
    assert.equal(await finance.locator('g.bar-shown').count(), shownCells.length);
    const noiseDay = shownCells.find((c) => c.by_class.noise && !c.by_class.noise.suppressed);
    assert.equal((await finance.locator(`tr[data-bucket="${noiseDay.bucket}"] td[data-col="noise"]`).textContent()).trim(), num(noiseDay.by_class.noise.observables));

    assert.deepEqual((await checkTexts(page, 'en')).problems, [], 'texts');
    assert.deepEqual(await axeViolations(page), [], 'axe');
    await page.screenshot({ path: screenshotPath('trends-en.png'), fullPage: true });
    assert.deepEqual(browser.errors, []);
  });

  test('rising, scanners and actors are the API\'s', async () => {
    await page.goto(`${alliance.url}/#/trends`);
    await ready();
    // rising: finance × ip-dst; the energy cell (one organisation) counted, not listed
    const rising = await trends('rising?window=7d');
    assert.ok(rising.cells.some((c) => c.sector === 'finance' && c.type === 'ip-dst'), JSON.stringify(rising));
    const risingRows = page.locator('#trends-rising tbody tr');
    assert.equal(await risingRows.count(), rising.cells.length);
    for (const [i, c] of rising.cells.entries()) {
      const row = risingRows.nth(i);
      assert.equal(await row.getAttribute('data-sector'), c.sector);
      assert.equal((await row.locator('td[data-col="observables"]').textContent()).trim(), num(c.observables));
      assert.equal((await row.locator('td[data-col="organisations"]').textContent()).trim(), num(c.organisations));
      assert.equal((await row.locator('td[data-col="p"]').textContent()).trim(), `1 in ${num(Number((1 / c.p_value).toPrecision(2)))}`);
    }
    assert.ok(rising.suppressed >= 1, 'energy × ip-dst rises too, from one organisation');
    assert.match(await page.locator('#trends-rising-hidden').textContent(),
      new RegExp(`^${rising.suppressed} rising sectors? and types? (is|are) hidden by k-anonymity`));

    // scanners: values reported by two or more organisations, with their counts
    const scanners = await trends('scanners?window=7d&min_orgs=2&limit=100');
    const values = await page.locator('#trends-scanners tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.value));
    assert.deepEqual(values, scanners.scanners.map((s) => s.value));
    const top = scanners.scanners.find((s) => s.organisations === 4);
    assert.ok(top, JSON.stringify(scanners));
    const topRow = page.locator(`#trends-scanners tr[data-value="${top.value}"]`);
    assert.equal((await topRow.locator('td[data-col="organisations"]').textContent()).trim(), '4');
    assert.equal((await topRow.locator('td[data-col="sectors"]').textContent()).trim(), '2');
    assert.equal((await topRow.locator('td[data-col="sightings"]').textContent()).trim(), num(top.sightings));
    assert.deepEqual(await texts(topRow.locator('.badge.cls')), ['noise']);
    assert.deepEqual(await texts(topRow.locator('ul.inline-list li')), ['honeypot']);
    assert.equal((await page.locator('#trends-scanners tr[data-value="8.8.4.4"] td[data-col="organisations"]').textContent()).trim(), '2');
    // three or more: 8.8.4.4 (two organisations) goes
    await page.locator('#trends-min-orgs').selectOption('3');
    await page.locator('#trends-scanners tr[data-value="8.8.4.4"]').waitFor({ state: 'detached' });
    await page.locator('#trends-scanners[data-state="ready"]').waitFor();
    const three = await trends('scanners?window=7d&min_orgs=3&limit=100');
    assert.deepEqual(await page.locator('#trends-scanners tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.value)),
      three.scanners.map((s) => s.value));

    // actors: the honeypot's events name one; its numbers, days and infrastructure
    const actors = await trends('actors?window=7d');
    const a = actors.actors.find((x) => x.actor === ACTOR);
    assert.ok(a && !a.suppressed, JSON.stringify(actors));
    const card = page.locator(`article.actor-card[data-actor="${ACTOR}"]`);
    for (const [key, field] of [['trends.table.organisations', 'organisations'], ['trends.actors.indicators', 'indicators'], ['trends.table.sightings', 'sightings']]) {
      assert.equal((await card.locator(`.stat[data-key="${key}"] dd`).textContent()).trim(), num(a[field]), field);
    }
    assert.equal(await card.locator('g.bar-shown').count(), a.days.filter((d) => !d.suppressed).length);
    assert.equal(await card.locator('g.bar-suppressed').count(), a.days.filter((d) => d.suppressed).length);
    for (const d of a.days) {
      const row = card.locator(`tbody tr[data-bucket="${d.day}"]`);
      if (d.suppressed) assert.equal((await row.locator('td').textContent()).trim(), `suppressed (fewer than ${K} organisations)`);
      else assert.equal((await row.locator('td[data-col="sightings"]').textContent()).trim(), num(d.sightings));
    }
    assert.deepEqual(await card.locator('.infra-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.value)),
      a.infrastructure.map((v) => v.value));
    assert.deepEqual((await checkTexts(page, 'en')).problems, [], 'texts');
    assert.deepEqual(browser.errors, []);
  });

  test('"Watch rising trends" makes a rising watchlist; its page shows the API\'s cells and names nobody', async () => {
    await page.goto(`${alliance.url}/#/trends`);
    await ready();
    await page.locator('#trends-watch-rising').click();
    const link = page.locator('#trends-watch-out a#trends-watch-link');
    await link.waitFor({ timeout: 10_000 });
    assert.equal((await link.textContent()).trim(), 'Rising trends (7 days)');
    const list = await apiCall(alliance, '/api/v1/watchlists');
    assert.equal(list.status, 200, list.text);
    const w = list.json.find((x) => x.kind === 'rising');
    assert.ok(w, JSON.stringify(list.json));
    assert.equal(w.name, 'Rising trends (7 days)');
    assert.deepEqual(w.rising, { window: '7d', sectors: [], types: [] });
    assert.equal(w.interval_s, 3600);
    assert.equal(await link.getAttribute('href'), `#/watchlist/${w.id}`);
    assert.deepEqual((await checkTexts(page, 'en')).problems, [], 'texts with the notice');
    await page.locator('#trends-rising').screenshot({ path: screenshotPath('trends-watch-rising-en.png') });

    // a search watchlist next to it (the honeypot only: no waiting for the slow member)
    const search = await apiCall(alliance, '/api/v1/watchlists', {
      method: 'POST', body: { name: 'honeypot addresses', indicators: [seq[0], '8.8.4.4'], members: ['honeypot'], interval: '1h' },
    });
    assert.equal(search.status, 201, search.text);

    // the list: the rising one is described, the search counts its indicators
    await page.goto(`${alliance.url}/#/watchlists`);
    const risingRow = page.locator(`.watch-table tr[data-id="${w.id}"]`);
    await risingRow.waitFor();
    assert.equal((await risingRow.locator('td').nth(2).innerText()).trim(), 'Rising trends: every sector · 7 days');
    assert.equal((await page.locator(`.watch-table tr[data-id="${search.json.id}"] td`).nth(2).innerText()).trim(), '2');
    await page.locator('.watch-table').screenshot({ path: screenshotPath('watchlists-rising-en.png') });

    // its page, once the watcher's first run is in: finance × ip-dst with the API's numbers
    const rising = await trends('rising?window=7d');
    const cell = rising.cells.find((c) => c.sector === 'finance' && c.type === 'ip-dst');
    assert.ok(cell, JSON.stringify(rising));
    const current = page.locator('#watch-current-h + .table-wrap .watch-cells');
    const financeRow = current.locator('tr[data-sector="finance"][data-type="ip-dst"]');
    await page.goto(`${alliance.url}/#/watchlist/${w.id}`);
    for (const deadline = Date.now() + 15_000; ;) {
      await page.locator('#watch-current-h').waitFor();
      if (await financeRow.count()) break;
      assert.ok(Date.now() < deadline, `no finance row after 15 s: ${await page.locator('#watchlist-body').innerText()}`);
      await new Promise((r) => setTimeout(r, 300));
      await page.reload();
    }
    await page.getByRole('heading', { level: 1, name: 'Rising trends (7 days)' }).waitFor();
    const got = await apiCall(alliance, `/api/v1/watchlists/${w.id}`);
    assert.deepEqual(got.json.current_hits.map((c) => `${c.sector}|${c.type}`), rising.cells.map((c) => `${c.sector}|${c.type}`));
    assert.equal((await page.locator('#watch-current-h').textContent()).trim(), `Rising now (${rising.cells.length})`);
    assert.equal(await current.locator('tbody tr').count(), rising.cells.length);
    assert.equal((await financeRow.locator('td[data-col="observables"]').textContent()).trim(), num(cell.observables));
    assert.equal((await financeRow.locator('td[data-col="baseline"]').textContent()).trim(), num(Math.round(cell.baseline * 100) / 100));
    assert.equal((await financeRow.locator('td[data-col="p"]').textContent()).trim(), `1 in ${num(Number((1 / cell.p_value).toPrecision(2)))}`);
    assert.equal((await page.locator('#watch-rising-spec').innerText()).trim(), 'Rising trends: every sector · 7 days');
    assert.match(await current.locator('thead').textContent(), /Observable-days, last 7 days/);
    // the first run: every cell new, in a table of its own
    const run = page.locator('.watch-runs > li').first();
    assert.match(await run.locator('p').first().innerText(),
      new RegExp(`: first run — ${rising.cells.length} sectors? and types? rising, ${rising.cells.length} new, 0 ended$`));
    assert.equal(await run.locator('h3', { hasText: 'Started rising' }).count(), 1);
    assert.equal(await run.locator('.watch-cells tr[data-sector="finance"][data-type="ip-dst"]').count(), 1);
    await nobodyNamed();
    assert.deepEqual((await checkTexts(page, 'en')).problems, [], 'watchlist texts');
    assert.deepEqual(await axeViolations(page), [], 'watchlist axe');
    await page.screenshot({ path: screenshotPath('watchlist-rising-en.png'), fullPage: true });
    await page.locator('#lang').selectOption('ja');
    await page.waitForFunction(() => document.documentElement.lang === 'ja');
    assert.equal((await page.locator('#watch-rising-spec').innerText()).trim(), '急増傾向：全業種・7 日間');
    await page.screenshot({ path: screenshotPath('watchlist-rising-ja.png'), fullPage: true });
    assert.deepEqual((await checkTexts(page, 'ja')).problems, [], 'watchlist texts in Japanese');
    await page.locator('#lang').selectOption('en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');

    // the search watchlist still shows its hit table
    await page.goto(`${alliance.url}/#/watchlist/${search.json.id}`);
    const hitRow = page.locator('#watch-current-h + .table-wrap .watch-hits tbody tr', { hasText: seq[0] });
    for (const deadline = Date.now() + 15_000; ;) {
      await page.locator('#watch-current-h').waitFor();
      if (await hitRow.count()) break;
      assert.ok(Date.now() < deadline, `no hit after 15 s: ${await page.locator('#watchlist-body').innerText()}`);
      await new Promise((r) => setTimeout(r, 300));
      await page.reload();
    }
    assert.match(await page.locator('#watch-current-h').textContent(), /^Current hits \(\d+\)$/);
    assert.match(await hitRow.innerText(), /honeypot/);
    assert.equal(await page.locator('.watch-cells, #watch-rising-spec').count(), 0);
    assert.deepEqual(browser.errors, []);
  });

  test('the language switch redraws the page in Japanese', async () => {
    await page.goto(`${alliance.url}/#/trends?window=30d&bucket=7d`);
    await ready();
    assert.equal(await page.locator('#trends-window').inputValue(), '30d');
    await page.locator('#lang').selectOption('ja');
    await page.waitForFunction(() => document.documentElement.lang === 'ja');
    const ja = CATALOGS.ja;
    assert.equal(await page.locator('h1').textContent(), ja['trends.title']);
    assert.equal(await page.locator('#trends-sectors-h').textContent(), ja['trends.sectors.title']);
    assert.equal(await page.locator('#trends-actors-h').textContent(), ja['trends.actors.title']);
    assert.equal(await page.locator('nav a[data-route="trends"]').textContent(), ja['nav.trends']);
    assert.match(await page.locator('#trends-k').textContent(), /^k-匿名性：k = 3。/);
    assert.equal((await page.locator('figure[data-sector="energy"] .suppressed-note').textContent()).trim(),
      'この業種はどの期間も報告した組織が 3 未満のため、数値は表示しません。');
    assert.match(await page.locator('figure[data-sector="finance"] svg').getAttribute('aria-label'), /^financeの 7 日ごとの観測回数の棒グラフ。/);
    assert.deepEqual((await checkTexts(page, 'ja')).problems, [], 'texts in Japanese');
    assert.deepEqual(await axeViolations(page), [], 'axe in Japanese');
    await page.screenshot({ path: screenshotPath('trends-ja.png'), fullPage: true });
    await page.locator('#lang').selectOption('en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
  });

  test('at a phone\'s width the charts and tables stack, nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(`${alliance.url}/#/trends`);
      await ready();
      await page.locator('figure[data-sector="finance"] details summary').click();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${overflow} px wider than the screen`);
      const [a, b] = await page.locator('figure.trend-chart[data-sector]').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top));
      assert.ok(b > a, 'the sector charts are stacked');
      assert.deepEqual(await axeViolations(page), [], 'axe at 390 px');
    } finally {
      await page.setViewportSize({ width: 1400, height: 950 });
    }
  });

  test('API errors show in their own section; the others still load', async () => {
    // a bucket longer than the window: only the sectors ask for a bucket
    await page.goto(`${alliance.url}/#/trends?window=7d&bucket=9d`);
    await ready();
    const bad = await apiCall(alliance, '/api/v1/trends/sectors?window=7d&bucket=9d');
    assert.equal(bad.status, 400);
    assert.equal((await page.locator('#trends-sectors .error-box .api-message').textContent()).trim(), bad.json.message);
    assert.match(await page.locator('#trends-sectors .error-box').textContent(), /Cannot load the sightings per sector:/);
    assert.equal(await page.locator('#trends-bucket').inputValue(), '9d', 'the URL\'s value, shown as it is');
    for (const s of ['rising', 'scanners', 'actors']) {
      assert.equal(await page.locator(`#trends-${s}`).getAttribute('data-state'), 'ready', s);
    }
    // choosing a bucket the API takes brings the chart back
    await page.locator('#trends-bucket').selectOption('1d');
    await page.locator('#trends-sectors[data-state="ready"] figure[data-sector="finance"]').waitFor();

    // the key refused: every section says so, in the catalog's words
    await page.evaluate(() => sessionStorage.setItem('iocgrid.portal.key', 'z'.repeat(40)));
    await page.locator('#trends-reload').click();
    for (const s of ['sectors', 'rising', 'scanners', 'actors']) {
      await page.locator(`#trends-${s}[data-state="error"]`).waitFor();
      assert.equal((await page.locator(`#trends-${s} .api-message`).textContent()).trim(), CATALOGS.en['err.api.authFailed'], s);
    }
    assert.deepEqual((await checkTexts(page, 'en')).problems, [], 'texts');
    assert.deepEqual(await axeViolations(page), [], 'axe');
    await page.evaluate((key) => sessionStorage.setItem('iocgrid.portal.key', key), alliance.key);
  });
});
