// The portal web UI in a real headless Chromium against the real system on loopback: two
// iocgrid member nodes, a member that is down, and `iocgrid portal serve` serving web/.
//
//   node --test web/tests/
//
// See web/README.md and tests/harness.mjs for the environment variables.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { apiCall, launchBrowser, screenshotPath, startAlliance } from './harness.mjs';

const LABEL = 'ui test: case 42';
const CSV_LABEL = 'ui test: csv <img src=x onerror="window.__xss=1"><b>bold?</b>';
// What the analyst pastes (list mode). Member data is in harness.mjs (DATA).
const QUERY = [
  '198.51.100.7',        // honeypot: exact
  '203.0.113.9',         // honeypot: in-range of 203.0.113.0/24
  'evil[.]example',      // anonymity: exact (defanged on input)
  'www.bad.example',     // anonymity: subdomain of bad.example
  '192.0.2.55',          // nobody
  'no such thing',       // invalid
];

describe('portal web UI', { timeout: 240_000 }, () => {
  let alliance;
  let browser;
  let page;
  let searchId;

  before(async () => {
    alliance = await startAlliance();
    browser = await launchBrowser({ colorScheme: 'dark' });
    page = browser.page;
  });

  after(async () => {
    if (browser) await browser.close();
    if (alliance) await alliance.stop();
  });

  test('a bad key shows the API error message', async () => {
    const bad = 'b'.repeat(40);
    const api = await apiCall(alliance, '/api/v1/me', { key: bad });
    assert.equal(api.status, 403);
    assert.ok(api.json && api.json.message, `403 body has a message: ${api.text}`);

    await page.goto(`${alliance.url}/`);
    await page.locator('#key').fill(bad);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const shown = page.locator('#signin-error .api-message');
    await shown.waitFor();
    assert.equal((await shown.textContent()).trim(), api.json.message);
    await page.screenshot({ path: screenshotPath('signin-error-dark.png') });
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
    // the members of GET /api/v1/members are offered, checked
    const boxes = page.locator('#member-checks input[name=member]');
    await boxes.first().waitFor();
    assert.deepEqual((await boxes.evaluateAll((els) => els.map((e) => [e.value, e.checked]))).sort(),
      [['anonymity', true], ['honeypot', true], ['offline', true], ['slow', true]]);
    await page.screenshot({ path: screenshotPath('new-search-dark.png'), fullPage: true });
  });

  test('a search shows hits grouped by indicator; a member that is down shows as failed', async () => {
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
    await page.locator('article.ioc-card').first().waitFor();
    assert.match(await page.locator('.status-text').textContent(), /^Searching… \d of 4 members answered/);
    assert.match(await row('slow').locator('.status-cell').textContent(), /running|queued/);
    assert.equal(await page.locator('button.export[data-format="csv"]').isDisabled(), true);
    await page.screenshot({ path: screenshotPath('running-dark.png'), fullPage: true });

    await page.locator('.status-text').filter({ hasText: /^Done/ }).waitFor({ timeout: 30_000 });

    // The UI read the event stream with the key in the header, and never put the key in a URL.
    const events = requests.find((r) => r.url.includes(`/api/v1/searches/${encodeURIComponent(searchId)}/events`));
    assert.ok(events, 'the page read /events');
    assert.equal(events.auth, alliance.key);
    for (const r of requests) assert.ok(!r.url.includes(alliance.key), `key in URL ${r.url}`);

    const api = (await apiCall(alliance, `/api/v1/searches/${encodeURIComponent(searchId)}`)).json;
    assert.equal(api.status, 'done');

    // members panel
    assert.match(await row('slow').locator('.status-cell').textContent(), /timed out|failed/);
    assert.ok((await row('slow').locator('.member-error').textContent()).trim(), 'the slow member says why');
    assert.match(await row('honeypot').locator('.status-cell').textContent(), /done/);
    assert.match(await row('anonymity').locator('.status-cell').textContent(), /done/);
    assert.match(await row('offline').locator('.status-cell').textContent(), /failed|timed out/);
    const apiOffline = api.members.find((m) => m.member === 'offline');
    assert.ok(apiOffline.error, 'the API gives the reason');
    assert.equal((await row('offline').locator('.member-error').textContent()).trim(), apiOffline.error);
    assert.match(await page.locator('.status-text').textContent(), /2 members did not answer/);

    // one card per indicator held by somebody, in input order, each with one row per API hit
    const held = api.indicators.filter((ind) => ind.held_by > 0);
    const cards = page.locator('article.ioc-card');
    assert.equal(await cards.count(), held.length);
    for (const [k, ind] of held.entries()) {
      const card = cards.nth(k);
      assert.equal((await card.locator('h3.ioc').textContent()).trim(), ind.value);
      assert.match(await card.locator('.heldby').textContent(), new RegExp(`held by ${ind.held_by} of 4 members`));
      assert.equal(await card.locator('tr.hit').count(), ind.hits.length, `rows of ${ind.value}`);
    }

    const card = (value) => page.locator('article.ioc-card', { has: page.locator('h3.ioc', { hasText: value }) });
    const hitRow = async (value) => (await card(value).locator('tr.hit').first().innerText()).replace(/\s+/g, ' ');
    assert.match(await hitRow('198.51.100.7'), /Honeypot network exact 198\.51\.100\.7 ip-/);
    assert.match(await hitRow('203.0.113.9'), /Honeypot network in-range 203\.0\.113\.0\/24/);
    assert.match(await hitRow('evil'), /Anonymity infrastructure exact evil\.example domain/);
    assert.match(await hitRow('www.bad.example'), /Anonymity infrastructure subdomain bad\.example/);
    assert.match(await card('198.51.100.7').locator('.heldby').textContent(), /held by 1 of 4 members/);

    // not held by anybody; invalid entries with their error
    assert.match(await page.locator('#unmatched').textContent(), /192\.0\.2\.55/);
    const invalidApi = api.invalid.find((x) => x.value === 'no such thing');
    assert.ok(invalidApi, `the API lists the invalid entry: ${JSON.stringify(api.invalid)}`);
    const invalidRow = page.locator('#invalid tr', { hasText: 'no such thing' });
    assert.match(await invalidRow.textContent(), new RegExp(escapeRe(invalidApi.error)));

    // summary = the API's summary
    assert.equal(await page.locator('.totals div:nth-child(3) dd').textContent(), String(api.summary.hits));

    await page.screenshot({ path: screenshotPath('results-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.screenshot({ path: screenshotPath('results-light.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    assert.deepEqual(browser.errors, []);
  });

  test('export CSV downloads a file with the hits', async () => {
    const csvButton = page.locator('button.export[data-format="csv"]');
    const [download] = await Promise.all([page.waitForEvent('download'), csvButton.click()]);
    const file = await download.path();
    const csv = fs.readFileSync(file, 'utf8');
    const lines = csv.trim().split(/\r?\n/);
    assert.match(lines[0], /^query,query_type,member,relation,matched/);
    assert.ok(lines.some((l) => l.startsWith('198.51.100.7,') && l.includes('honeypot') && l.includes('exact')), csv);
    assert.ok(lines.some((l) => l.includes('anonymity') && l.includes('evil.example')), csv);
    assert.match(download.suggestedFilename(), /\.csv$/);
    // the other formats download too
    for (const format of ['json', 'misp', 'stix']) {
      const [d] = await Promise.all([page.waitForEvent('download'),
        page.locator(`button.export[data-format="${format}"]`).click()]);
      const body = JSON.parse(fs.readFileSync(await d.path(), 'utf8'));
      assert.ok(body && typeof body === 'object', format);
    }
  });

  test('CSV mode: an indicator dated long before the member data gets a visible time-gap marker', async () => {
    await page.goto(`${alliance.url}/#/new`);
    await page.locator('label[for="mode-csv"]').click();
    await page.locator('#ioc-input').fill('type,value,date\nip-dst,198.51.100.8,2012-05-01\ndomain,evil.example,\n');
    await page.locator('#label').fill(CSV_LABEL);
    await page.locator('#search-submit').click();
    await page.waitForURL(/#\/search\/[^/]+$/);
    await page.locator('.status-text').filter({ hasText: /^Done/ }).waitFor({ timeout: 30_000 });
    // server text is shown as text, never parsed as HTML
    assert.equal(await page.locator('#search-title').textContent(), CSV_LABEL);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('#main img').count(), 0);
    const dated = page.locator('article.ioc-card', { has: page.locator('h3.ioc', { hasText: '198.51.100.8' }) });
    assert.match(await dated.textContent(), /dated 2012-05-01/);
    const marker = dated.locator('tr.hit .gap-marker');
    assert.equal(await marker.isVisible(), true);
    assert.match(await marker.textContent(), /time gap/i);
    const undated = page.locator('article.ioc-card', { has: page.locator('h3.ioc', { hasText: 'evil.example' }) });
    assert.equal(await undated.locator('.gap-marker').count(), 0);
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
    assert.match(await page.locator('#results-list').textContent(), /14\.63\.160\.31/);
    assert.match(await page.locator('#results-list').textContent(), /Honeypot network/);
  });

  test('history shows the search, opens it, and delete removes it', async () => {
    await page.locator('#nav a[data-route="history"]').click();
    const row = page.locator('.history-table tr', { hasText: LABEL });
    await row.waitFor();
    await page.screenshot({ path: screenshotPath('history-dark.png'), fullPage: true });
    assert.match(await row.textContent(), /TLP:GREEN/);
    await row.getByRole('link', { name: `Open search ${LABEL}` }).click();
    await page.getByRole('heading', { level: 1, name: LABEL }).waitFor();
    await page.locator('.status-text').filter({ hasText: /^Done/ }).waitFor();

    await page.goBack();
    await row.waitFor();
    page.once('dialog', (d) => d.accept());
    await row.getByRole('button', { name: /^Delete/ }).click();
    await row.waitFor({ state: 'detached' });
    assert.match(await page.locator('#toast').textContent(), /Deleted/);
    const gone = await apiCall(alliance, `/api/v1/searches/${encodeURIComponent(searchId)}`);
    assert.equal(gone.status, 404);
    // the report search is still listed
    await page.locator('.history-table tr', { hasText: 'ui test: report' }).waitFor();
  });

  test('an unknown search shows the API error message', async () => {
    const api = await apiCall(alliance, '/api/v1/searches/does-not-exist');
    assert.equal(api.status, 404);
    await page.goto(`${alliance.url}/#/search/does-not-exist`);
    const shown = page.locator('.error-box .api-message');
    await shown.waitFor();
    assert.equal((await shown.textContent()).trim(), api.json.message);
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
