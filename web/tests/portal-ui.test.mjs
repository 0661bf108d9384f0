// The portal web UI in a real headless Chromium against the real system on loopback: iocgrid
// member nodes, a member that is down, one that hangs, members that disclose existence or counts
// only, and `iocgrid portal serve` serving web/. The analyst's flows in English, end to end.
//
//   node --test web/tests/
//
// See web/README.md and tests/harness.mjs for the environment variables.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { apiCall, launchBrowser, parseCsv, screenshotPath, startAlliance } from './harness.mjs';
import { CATALOGS } from './checks.mjs';

const EN = CATALOGS.en;
const LABEL = 'ui test: case 42';
const CSV_LABEL = 'ui test: csv <img src=x onerror="window.__xss=1"><b>bold?</b>';
// What the analyst pastes (list mode). Member data is in harness.mjs (DATA).
const QUERY = [
  '198.51.100.7',        // honeypot: exact
  '203.0.113.9',         // honeypot: in-range of 203.0.113.0/24
  'evil[.]example',      // anonymity: exact (defanged on input); vendor: existence; agency: counts
  'www.bad.example',     // anonymity: subdomain of bad.example (and vendor, agency)
  '192.0.2.55',          // nobody
  'no such thing',       // invalid
];
const MEMBERS = 6;

describe('portal web UI', { timeout: 240_000 }, () => {
  let alliance;
  let browser;
  let page;
  let searchId;

  before(async () => {
    alliance = await startAlliance();
    browser = await launchBrowser({ colorScheme: 'dark', locale: 'en-US' });
    page = browser.page;
  });

  after(async () => {
    if (browser) await browser.close();
    if (alliance) await alliance.stop();
  });

  const rowByValue = (value) => page.locator('#results-grid .grid-row[role=row]', { has: page.locator('.ioc-value', { hasText: value }) });

  test('a bad key shows the API error from the catalog', async () => {
    const bad = 'b'.repeat(40);
    const api = await apiCall(alliance, '/api/v1/me', { key: bad });
    assert.equal(api.status, 403);
    assert.ok(api.json && api.json.name, `403 body has a name: ${api.text}`);

    await page.goto(`${alliance.url}/`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.locator('#key').fill(bad);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const shown = page.locator('#signin-error .api-message');
    await shown.waitFor();
    assert.equal(await shown.getAttribute('data-i18n'), 'err.api.authFailed');
    assert.equal((await shown.textContent()).trim(), EN['err.api.authFailed']);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused key is not kept');
    assert.ok(!page.url().includes(bad));
  });

  test('sign in with the portal key', async () => {
    await page.goto(`${alliance.url}/`);
    await page.locator('#key').fill(alliance.key);
    await page.locator('#key').press('Enter');
    await page.getByRole('heading', { level: 1, name: 'New search' }).waitFor();
    assert.match(await page.locator('#userbar').textContent(), /alice/);
    assert.match(await page.locator('#userbar').textContent(), /analyst/);
    assert.ok(!page.url().includes(alliance.key), 'the key is never in the URL');
    const stored = await page.evaluate(() => Object.values(sessionStorage));
    assert.deepEqual(stored, [alliance.key]);
    // the members of GET /api/v1/members are offered, checked; disclosure is said
    const boxes = page.locator('#member-checks input[name=member]');
    await boxes.first().waitFor();
    assert.deepEqual((await boxes.evaluateAll((els) => els.map((e) => [e.value, e.checked]))).sort(),
      [['agency', true], ['anonymity', true], ['honeypot', true], ['offline', true], ['slow', true], ['vendor', true]]);
    assert.match(await page.locator('label[for="member-vendor"]').textContent(), /discloses existence only/);
  });

  test('a search shows progress live, then every hit as a row; members that are down say why', async () => {
    const requests = [];
    page.on('request', (r) => requests.push({ url: r.url(), auth: r.headers().authorization }));
    await page.locator('#ioc-input').fill(QUERY.join('\n'));
    await page.locator('#label').fill(LABEL);
    await page.locator('#tlp').selectOption('green');
    await page.locator('#search-submit').click();

    await page.waitForURL(/#\/search\/[^/]+$/);
    searchId = decodeURIComponent(page.url().split('#/search/')[1]);

    // Live: the "slow" member hangs until its timeout, so the search is still running while the
    // honeypot's answer is already on screen.
    const row = (name) => page.locator(`#members-panel tbody[data-member="${name}"]`);
    await row('honeypot').locator('.status-cell', { hasText: 'done' }).waitFor();
    await rowByValue('198.51.100.7').first().waitFor();
    assert.match(await page.locator('.status-text').textContent(), /^Searching… \d of 6 members answered/);
    assert.match(await row('slow').locator('.status-cell').textContent(), /running|queued/);
    assert.equal(await page.locator('button.export[data-format="csv"]').isDisabled(), true);
    assert.equal(await page.locator('button.export[data-format="csv"]').getAttribute('title'), EN['export.whenDone']);
    await page.screenshot({ path: screenshotPath('running-dark.png'), fullPage: true });

    await page.locator('.status-text').filter({ hasText: /^Done/ }).waitFor({ timeout: 30_000 });

    // The worker read the event stream with the key in the header; no URL carries the key.
    const events = requests.find((r) => r.url.includes(`/api/v1/searches/${encodeURIComponent(searchId)}/events`));
    assert.ok(events, 'the page read /events');
    assert.equal(events.auth, alliance.key);
    for (const r of requests) assert.ok(!r.url.includes(alliance.key), `key in URL ${r.url}`);

    const api = (await apiCall(alliance, `/api/v1/searches/${encodeURIComponent(searchId)}`)).json;
    assert.equal(api.status, 'done');

    // members panel
    assert.match(await row('slow').locator('.status-cell').textContent(), /timed out|failed/);
    assert.ok((await row('slow').locator('.member-error').textContent()).trim(), 'the slow member says why');
    for (const m of ['honeypot', 'anonymity', 'vendor', 'agency']) assert.match(await row(m).locator('.status-cell').textContent(), /done/);
    assert.match(await row('offline').locator('.status-cell').textContent(), /failed|timed out/);
    const apiOffline = api.members.find((m) => m.member === 'offline');
    assert.ok(apiOffline.error, 'the API gives the reason');
    assert.equal((await row('offline').locator('.member-error').textContent()).trim(), apiOffline.error);
    assert.match(await page.locator('.status-text').textContent(), /2 members did not answer/);
    assert.equal((await row('agency').locator('td.num').first().textContent()).trim(), 'counts only');

    // one grid row per hit of the API's document, plus one per indicator held by counts-only members
    const hits = api.indicators.reduce((n, ind) => n + ind.hits.length, 0);
    const countRows = api.indicators.filter((ind) => ind.held_by > new Set(ind.hits.map((x) => x.member)).size).length;
    assert.ok(countRows >= 2, 'the agency holds two of the values');
    const total = hits + countRows;
    assert.equal(await page.locator('#results-grid').getAttribute('aria-rowcount'), String(total + 1));
    assert.equal((await page.locator('#results-count').textContent()).trim(), `${total} rows`);
    assert.equal(await page.locator('#results-grid .grid-body .grid-row').count(), total);

    const text = async (loc) => (await loc.innerText()).replace(/\s+/g, ' ');
    assert.match(await text(rowByValue('198.51.100.7').first()), /198\.51\.100\.7 Honeypot network exact 198\.51\.100\.7 ip-\w+ noise/);
    assert.match(await text(rowByValue('203.0.113.9').first()), /Honeypot network in-range 203\.0\.113\.0\/24/);
    const evil = await Promise.all((await rowByValue('evil[.]example').all()).map(text));
    assert.ok(evil.some((r) => /Anonymity infrastructure exact evil\.example domain anonymizer/.test(r)), evil.join('\n'));
    assert.ok(evil.some((r) => /Security vendor exact withheld/.test(r)), evil.join('\n'));
    assert.ok(evil.some((r) => /1 member that shares counts only/.test(r)), evil.join('\n'));
    assert.match((await Promise.all((await rowByValue('www.bad.example').all()).map(text))).join('\n'), /Anonymity infrastructure subdomain bad\.example/);

    // not held by anybody; invalid entries with their error
    assert.match(await page.locator('#unmatched').textContent(), /192\.0\.2\.55/);
    const invalidApi = api.invalid.find((x) => x.value === 'no such thing');
    assert.ok(invalidApi, `the API lists the invalid entry: ${JSON.stringify(api.invalid)}`);
    assert.match(await page.locator('#invalid tr', { hasText: 'no such thing' }).textContent(), new RegExp(escapeRe(invalidApi.error)));

    // summary = the API's summary
    assert.equal(await page.locator('.totals div:nth-child(3) dd').textContent(), String(api.summary.hits));
    await page.screenshot({ path: screenshotPath('results-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: screenshotPath('results-light.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.deepEqual(browser.errors, []);
  });

  test('filters narrow the rows and count what each choice would show; sorting reorders them', async () => {
    const count = () => page.locator('#results-count').textContent();
    const option = (sel, value) => page.locator(`${sel} option[value="${value}"]`).textContent();
    assert.match(await option('#f-member', 'honeypot'), /^Honeypot network \(2\)$/);
    assert.match(await option('#f-relation', 'subdomain'), /^subdomain \(\d+\)$/);
    assert.match(await option('#f-class', 'noise'), /^noise \(2\)$/);
    await page.locator('#f-member').selectOption('honeypot');
    await page.waitForFunction(() => /^2 of/.test(document.querySelector('#results-count').textContent));
    assert.equal(await page.locator('#results-grid .grid-body .grid-row').count(), 2);
    // the member list still counts every member (as if chosen); relations count honeypot's only
    assert.match(await option('#f-member', 'anonymity'), /\(2\)$/);
    assert.equal(await page.locator('#f-relation option[value="subdomain"]').count(), 0);
    await page.locator('#f-member').selectOption('');
    await page.locator('#result-filter').fill('bad.example');
    await page.waitForFunction(() => /match the filters/.test(document.querySelector('#results-count').textContent));
    for (const r of await page.locator('#results-grid .grid-body .grid-row').all()) {
      assert.match(await r.innerText(), /bad\.example/);
    }
    await page.locator('#filters-reset').click();
    await page.waitForFunction(() => /^\d+ rows$/.test(document.querySelector('#results-count').textContent));
    assert.doesNotMatch(await count(), /match/);
    // sort by member, descending: Slow/Security vendor/... first
    await page.locator('button.sort[data-sort="member"]').click();
    await page.waitForFunction(() => document.querySelector('#results-grid').dataset.sorted === 'member asc');
    await page.locator('button.sort[data-sort="member"]').click();
    await page.waitForFunction(() => document.querySelector('#results-grid').dataset.sorted === 'member desc');
    assert.equal(await page.locator('[role=columnheader][data-col="member"]').getAttribute('aria-sort'), 'descending');
    const names = await page.locator('#results-grid .grid-body .grid-row [data-col="member"]').evaluateAll((els) =>
      els.sort((a, b) => a.parentElement.style.transform.localeCompare(b.parentElement.style.transform, 'en', { numeric: true })).map((e) => e.textContent));
    const named = names.filter((n) => !/counts only/.test(n));
    assert.deepEqual(named, [...named].sort((a, b) => b.toLowerCase().localeCompare(a.toLowerCase())));
    await page.locator('button.sort[data-sort="indicator"]').click();
    await page.waitForFunction(() => document.querySelector('#results-grid').dataset.sorted === 'indicator asc');
  });

  test('keyboard: / focuses the filter, arrows move, Enter opens the hit drawer, Escape closes it', async () => {
    await page.locator('h1').click();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'result-filter');
    await page.locator('#results-grid').focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    const active = await page.locator('#results-grid').getAttribute('aria-activedescendant');
    assert.equal(active, 'hr-1');
    assert.equal(await page.locator('#hr-1').getAttribute('aria-selected'), 'true');
    const value = (await page.locator('#hr-1 .ioc-value').textContent()).trim();
    await page.keyboard.press('Enter');
    const drawer = page.locator('#hit-drawer');
    await drawer.waitFor();
    assert.equal(await drawer.evaluate((d) => d.open), true);
    assert.equal((await page.locator('#drawer-title').textContent()).trim(), value);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'drawer-close');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('#hit-drawer').open);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'results-grid');
  });

  test('the drawer shows the hit in full, withheld details, counts-only holders', async () => {
    const open = async (loc) => {
      await loc.click();
      await page.locator('#hit-drawer[open]').waitFor();
      const t = (await page.locator('#hit-drawer').innerText()).replace(/\s+/g, ' ');
      await page.locator('#drawer-close').click();
      return t;
    };
    const full = await open(rowByValue('198.51.100.7').first());
    assert.match(full, /held by 1 of 6 members/);
    assert.match(full, /Name Honeypot network honeypot/);
    assert.match(full, /Class noise/);
    assert.match(full, /Disclosure full context/);
    assert.match(full, /Relation exact the same value/);
    assert.match(full, /Matched value 198\.51\.100\.7/);
    assert.match(full, /Event info \S+/);
    assert.match(full, /Time gap The indicator has no date of its own/);
    const vendor = await open(rowByValue('evil[.]example').filter({ hasText: 'Security vendor' }));
    assert.match(vendor, /Disclosure existence only/);
    assert.match(vendor, new RegExp(escapeRe(EN['drawer.existenceOnly'])));
    assert.doesNotMatch(vendor, /Matched value/);
    const counts = await open(rowByValue('evil[.]example').filter({ hasText: 'counts only' }));
    assert.match(counts, /1 member holds this indicator and shares counts only: never named, no details\./);
    assert.doesNotMatch(counts, /National agency|agency/);
  });

  test('exports: every format downloads and parses, and matches the search', async () => {
    const api = (await apiCall(alliance, `/api/v1/searches/${encodeURIComponent(searchId)}`)).json;
    const hits = api.indicators.flatMap((ind) => ind.hits.map((x) => ({ ...x, query: ind.value })));
    const get = async (format) => {
      const [d] = await Promise.all([page.waitForEvent('download'), page.locator(`button.export[data-format="${format}"]`).click()]);
      return { name: d.suggestedFilename(), text: fs.readFileSync(await d.path(), 'utf8') };
    };
    const csv = await get('csv');
    assert.match(csv.name, /\.csv$/);
    const rows = parseCsv(csv.text);
    assert.equal(rows.length, hits.length);
    assert.ok(rows.some((r) => r.query === '198.51.100.7' && r.member === 'honeypot' && r.relation === 'exact'), csv.text);
    assert.ok(rows.some((r) => r.member === 'anonymity' && r.matched === 'evil.example'), csv.text);
    const json = await get('json');
    const doc = JSON.parse(json.text);
    assert.equal(doc.id, searchId);
    assert.equal(doc.summary.hits, api.summary.hits);
    const misp = JSON.parse((await get('misp')).text);
    assert.ok(misp.Event && Array.isArray(misp.Event.Attribute), 'a MISP event');
    assert.ok(misp.Event.Attribute.some((a) => a.value === '198.51.100.7'));
    const stix = JSON.parse((await get('stix')).text);
    assert.equal(stix.type, 'bundle');
    const sightings = stix.objects.filter((o) => o.type === 'sighting');
    assert.ok(stix.objects.some((o) => o.type === 'indicator' && o.pattern.includes('198.51.100.7')));
    assert.ok(sightings.length >= 1);
    assert.match(await page.locator('#toast').textContent(), /Downloaded iocgrid-search-/);
  });

  test('copy as CSV copies the rows of the current filter', async () => {
    await page.locator('#f-member').selectOption('anonymity');
    await page.waitForFunction(() => /match the filters/.test(document.querySelector('#results-count').textContent));
    const shown = Number((await page.locator('#results-count').textContent()).match(/^(\d+)/)[1]);
    await page.locator('#copy-csv').click();
    await page.locator('#toast', { hasText: 'as CSV' }).waitFor();
    const text = await page.evaluate(() => navigator.clipboard.readText());
    const rows = parseCsv(text);
    assert.equal(rows.length, shown);
    assert.ok(rows.every((r) => r.member === 'anonymity'), text);
    assert.match(await page.locator('#toast').textContent(), new RegExp(`Copied ${shown} rows as CSV`));
    await page.locator('#filters-reset').click();
  });

  test('CSV mode: an indicator dated long before the member data has a time gap, explained', async () => {
    await page.goto(`${alliance.url}/#/new`);
    await page.locator('label[for="mode-csv"]').click();
    await page.locator('#ioc-input').fill('type,value,date\nip-dst,198.51.100.8,2012-05-01\ndomain,evil.example,\n');
    await page.locator('#label').fill(CSV_LABEL);
    await page.locator('#member-slow').uncheck();
    await page.locator('#search-submit').click();
    await page.waitForURL(/#\/search\/[^/]+$/);
    await page.locator('.status-text').filter({ hasText: /^Done/ }).waitFor({ timeout: 30_000 });
    // server text is shown as text, never parsed as HTML
    assert.equal(await page.locator('#search-title').textContent(), CSV_LABEL);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('#main img').count(), 0);
    const dated = rowByValue('198.51.100.8').first();
    await dated.waitFor();
    assert.equal(await dated.locator('.gap-marker').isVisible(), true);
    assert.match(await dated.locator('.gap-marker').textContent(), /time gap/i);
    const undated = rowByValue('evil.example').first();
    assert.equal(await undated.locator('.gap-marker').count(), 0);
    assert.match(await page.locator('#f-gap option[value="gap"]').textContent(), /With a time gap \(1\)/);
    await dated.click();
    const gap = (await page.locator('#hit-drawer .gap-explain').innerText()).replace(/\s+/g, ' ');
    assert.match(gap, /This indicator is dated May 1, 2012; the member's data on it is from \w+ \d+, \d{4} \((last seen|first seen|event date)\): [\d,]+ days apart, more than this search's limit of 365 days\./);
    await page.locator('#drawer-close').click();
    await page.screenshot({ path: screenshotPath('time-gap-dark.png'), fullPage: true });
  });

  test('free text mode extracts indicators from a report', async () => {
    await page.goto(`${alliance.url}/#/new`);
    await page.locator('label[for="mode-text"]').click();
    // (extraction drops documentation ranges and example.* names, so a real address from the
    // honeypot's Sequoia list)
    await page.locator('#ioc-input').fill('The actor scanned our VPN from 14.63.160[.]31 overnight, then went quiet.');
    await page.locator('#label').fill('ui test: report');
    await page.locator('#ioc-input').press('Control+Enter');
    await page.waitForURL(/#\/search\/[^/]+$/);
    await page.locator('.status-text').filter({ hasText: /^Done/ }).waitFor({ timeout: 30_000 });
    await rowByValue('14.63.160.31').first().waitFor();
    assert.match(await rowByValue('14.63.160.31').first().textContent(), /Honeypot network/);
  });

  test('history: search it, open a search, run one again, delete one', async () => {
    await page.locator('#nav a[data-route="history"]').click();
    const row = page.locator('.history-table tr', { hasText: LABEL });
    await row.waitFor();
    assert.match(await row.textContent(), /TLP:GREEN/);
    assert.match(await row.locator('time').textContent(), /ago|now/);
    // the text filter
    await page.locator('#history-filter').fill('report');
    await page.waitForFunction(() => /^1 of \d+ shown$/.test(document.querySelector('#history-count').textContent));
    assert.equal(await row.isVisible(), false);
    await page.locator('#history-filter').fill('CASE 42');
    await row.waitFor();
    assert.equal(await page.locator('.history-table tbody tr:visible').count(), 1);
    await page.locator('#history-filter').fill('');

    await row.getByRole('link', { name: `Open search ${LABEL}` }).click();
    await page.getByRole('heading', { level: 1, name: LABEL }).waitFor();
    await page.locator('.status-text').filter({ hasText: /^Done/ }).waitFor();
    await page.goBack();
    await row.waitFor();

    // run the report search again: a new search with the same request
    const before = (await apiCall(alliance, '/api/v1/searches')).json.length;
    await page.locator('.history-table tr', { hasText: 'ui test: report' }).getByRole('button', { name: 'Run again: search ui test: report' }).click();
    await page.waitForURL((u) => /#\/search\//.test(u.hash));
    const newId = decodeURIComponent(page.url().split('#/search/')[1]);
    await page.locator('.status-text').filter({ hasText: /^Done/ }).waitFor({ timeout: 30_000 });
    const list = (await apiCall(alliance, '/api/v1/searches')).json;
    assert.equal(list.length, before + 1);
    assert.equal(list.find((s) => s.id === newId).label, 'ui test: report');
    await rowByValue('14.63.160.31').first().waitFor();

    await page.locator('#nav a[data-route="history"]').click();
    await row.waitFor();
    page.once('dialog', (d) => d.accept());
    await row.getByRole('button', { name: /^Delete/ }).click();
    await row.waitFor({ state: 'detached' });
    assert.match(await page.locator('#toast').textContent(), /Deleted/);
    const gone = await apiCall(alliance, `/api/v1/searches/${encodeURIComponent(searchId)}`);
    assert.equal(gone.status, 404);
  });

  test('members: the latest search per member for analysts; the breaker and a live check for admins', async () => {
    await page.locator('#nav a[data-route="members"]').click();
    const card = (name) => page.locator(`.member-card[data-member="${name}"]`);
    await card('honeypot').waitFor();
    assert.match(await card('honeypot').innerText(), /Latest search\s+✓\s*done/);
    // offline failed every search so far: its breaker opened, and the latest search skipped it
    assert.match(await card('offline').innerText(), /Latest search\s+\S\s*(failed|skipped)/);
    assert.match(await card('agency').innerText(), /Disclosure\s+counts only/);
    assert.match(await card('honeypot').innerText(), /Kind of data\s+honeypot\s+noise/);
    assert.equal(await page.locator('#members-check').count(), 0, 'analysts cannot probe members');
    assert.equal(await page.locator('.breaker').count(), 0);

    // the admin
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#key').fill(alliance.adminKey);
    await page.locator('#key').press('Enter');
    // signing in keeps the page that was open
    await page.getByRole('heading', { level: 1, name: 'Members' }).waitFor();
    assert.match(await page.locator('#userbar').textContent(), /root\s*admin/);
    await card('honeypot').locator('.probe h3').waitFor({ timeout: 20_000 });
    const probe = (await apiCall(alliance, '/api/v1/members/check', { method: 'POST', key: alliance.adminKey })).json;
    const hp = probe.find((p) => p.member === 'honeypot');
    const text = (await card('honeypot').innerText()).replace(/\s+/g, ' ');
    assert.match(text, /Health reachable/);
    assert.match(text, new RegExp(`Attributes ${hp.attributes.toLocaleString('en')}`));
    assert.match(text, /Data span \w+ \d+, \d{4} → \w+ \d+, \d{4}/);
    assert.match(text, /Circuit breaker closed no failures lately/);
    const offline = (await card('offline').innerText()).replace(/\s+/g, ' ');
    assert.match(offline, /Health unreachable/);
    const breaker = (await apiCall(alliance, '/api/v1/members', { key: alliance.adminKey })).json.find((m) => m.name === 'offline').breaker;
    assert.ok(breaker.consecutive_failures >= 3, JSON.stringify(breaker));
    if (breaker.state === 'open') assert.match(offline, new RegExp(`Circuit breaker open skipped for \\d+ s more after ${breaker.consecutive_failures} failures in a row`));
    else assert.match(offline, /Circuit breaker half-open the next search is the trial/);
    await page.getByRole('button', { name: 'Sign out' }).click();
  });

  test('an unknown search shows the API error from the catalog', async () => {
    await page.goto(`${alliance.url}/#/new`);
    await page.locator('#key').fill(alliance.key);
    await page.locator('#key').press('Enter');
    await page.getByRole('heading', { level: 1, name: 'New search' }).waitFor();
    const api = await apiCall(alliance, '/api/v1/searches/does-not-exist');
    assert.equal(api.status, 404);
    assert.equal(api.json.name, 'Invalid search');
    await page.goto(`${alliance.url}/#/search/does-not-exist`);
    const shown = page.locator('.error-box .api-message');
    await shown.waitFor();
    assert.equal((await shown.textContent()).trim(), EN['err.api.noSearch']);
    // a name the catalog does not know shows the server's own words
    await page.goto(`${alliance.url}/#/new`);
    await page.locator('label[for="mode-list"]').click();
    await page.locator('#ioc-input').fill('198.51.100.7');
    await page.locator('#since').fill('yesterday');
    await page.locator('#search-submit').click();
    const err = page.locator('#form-error .api-message');
    await err.waitFor();
    const server = await apiCall(alliance, '/api/v1/searches', { method: 'POST', body: { indicators: ['198.51.100.7'], since: 'yesterday' } });
    assert.equal(server.status, 400);
    assert.equal((await err.textContent()).trim(), server.json.message);
    assert.equal(await err.getAttribute('data-user'), '');
    await page.locator('#since').fill('');
  });

  test('the page is keyboard usable: sign out, then sign in again without a mouse', async () => {
    await page.goto(`${alliance.url}/#/new`);
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await page.locator('#key').focus();
    await page.keyboard.type(alliance.key);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'New search' }).waitFor();
    // nothing went wrong in the page along the way (script errors, CSP violations)
    assert.deepEqual(browser.errors, []);
  });
});

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
