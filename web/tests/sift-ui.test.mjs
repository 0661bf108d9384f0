// The "Sift a log" page in a real headless Chromium against the real system on loopback: a log
// from data/ is uploaded through the page, and every number the report shows must equal the
// API's report (GET /api/v1/sifts/{id}) for the same sift.
//
//   node --test web/tests/

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { DATA, REPO, apiCall, screenshotPath, signedInBrowser, startAlliance } from './harness.mjs';

// A real access log from data/, plus a few requests from addresses the "honeypot" member holds
// (the first ones of its Sequoia list), so that some clients are noise with member hits.
const SECREPO = path.join(REPO, 'data/logs/secrepo_access.log.2021-10-22');
function writeLog(dir) {
  const scanners = fs.readFileSync(DATA.sequoia, 'utf8').split('\n').filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l)).slice(0, 3);
  const extra = scanners.flatMap((ip, i) => Array.from({ length: i + 2 }, (_, j) =>
    `${ip} - - [22/Oct/2021:03:0${j}:00 -0700] "GET /wp-login.php HTTP/1.1" 404 196 "-" "zgrab/0.x"\n`));
  const file = path.join(dir, 'access.log');
  fs.writeFileSync(file, fs.readFileSync(SECREPO, 'utf8') + extra.join(''));
  return { file, lines: 644 + extra.length, scanners };
}
const CLASSES = ['threat', 'noise', 'anonymizer', 'benign', 'unknown'];
const CELLS = ['alerted_threat', 'alerted_noise', 'alerted_unknown', 'not_alerted_threat_or_anonymizer'];
const num = (n) => Number(n ?? 0).toLocaleString('en');
const PERCENT = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 1 });
const share = (p, w) => (Number(w) > 0 ? PERCENT.format(Number(p) / Number(w)) : '—');

describe('sift a log', { timeout: 240_000 }, () => {
  let alliance;
  let browser;
  let page;

  before(async () => {
    alliance = await startAlliance();
    browser = await signedInBrowser(alliance);
    page = browser.page;
  });

  after(async () => {
    if (browser) await browser.close();
    if (alliance) await alliance.stop();
  });

  test('upload a log, then the report shows exactly what the API reports', async () => {
    await page.getByRole('link', { name: 'Sift a log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sift a log' }).waitFor();
    const log = writeLog(alliance.tmp);
    await page.locator('#sift-file').setInputFiles(log.file);
    await page.locator('#sift-label').fill('ui sift: secrepo');
    await page.locator('#sift-submit').click();
    await page.waitForURL(/#\/sift\/[0-9a-f]+$/, { timeout: 30_000 });
    const id = decodeURIComponent(page.url().split('#/sift/')[1]);
    // The search behind it waits for the "slow" member; the page follows it to the end.
    await page.locator('#sift-status[data-status="done"], #sift-status[data-status="interrupted"]').waitFor({ timeout: 60_000 });

    const api = await apiCall(alliance, `/api/v1/sifts/${id}`);
    assert.equal(api.status, 200, api.text);
    const r = api.json;
    assert.equal(r.label, 'ui sift: secrepo');
    assert.equal(r.summary.lines, log.lines, 'wc -l of the log');
    assert.deepEqual(r.top.noise.map((o) => o.value).sort(), [...log.scanners].sort(), 'the honeypot\'s addresses are noise');
    assert.equal((await page.locator('#sift-title').textContent()).trim(), r.label);

    for (const key of ['lines', 'parsed', 'malformed', 'cut', 'internal', 'observables', 'clients', 'alerts']) {
      const shown = (await page.locator(`#sift-summary [data-key="${key}"] dd`).textContent()).trim();
      assert.equal(shown, num(r.summary[key]), `summary ${key}`);
    }
    for (const key of CELLS) {
      const shown = (await page.locator(`#sift-cells [data-cell="${key}"] .cell-num`).textContent()).trim();
      assert.equal(shown, num(r.alert_cells[key]), `alert cell ${key}`);
    }
    let observables = 0;
    for (const c of CLASSES) {
      const x = r.summary.by_class[c];
      observables += x.observables;
      const cells = await page.locator(`#sift-classes tr[data-class="${c}"] td`).allTextContents();
      assert.deepEqual(cells.map((s) => s.trim()), [
        num(x.observables), num(x.clients), share(x.clients, r.summary.clients),
        num(x.lines), share(x.lines, r.summary.lines),
      ], `class ${c}`);
      const values = await page.locator(`.sift-top[data-class="${c}"] tbody tr`).evaluateAll(
        (rows) => rows.map((row) => row.dataset.value));
      assert.deepEqual(values, r.top[c].map((o) => o.value), `top ${c}`);
    }
    assert.equal(observables, r.summary.observables, 'every observable has one class');
    assert.ok(r.summary.observables > 100, 'the log has its clients');
    await page.screenshot({ path: screenshotPath('sift-report-light.png'), fullPage: true });

    // Drill-down: a top observable's member hits inline, then the search behind the sift.
    const withHits = r.top.noise[0];
    const row = page.locator(`.sift-top tbody tr[data-value="${withHits.value}"]`);
    await row.locator('summary').click();
    const items = await row.locator('details li').allTextContents();
    assert.equal(items.length, withHits.hits.length);
    assert.ok(items[0].includes('honeypot'), items[0]);
    assert.ok(items[0].includes(withHits.hits[0].matched), items[0]);
    await page.locator('#sift-search-link').click();
    await page.waitForURL(new RegExp(`#/search/${r.search.id}$`));
    await page.locator('#search-title').filter({ hasText: `sift: ${r.label}` }).waitFor();
    assert.deepEqual(browser.errors, []);
  });

  test('a failed upload shows the API message', async () => {
    await page.goto(`${alliance.url}/#/sift`);
    await page.getByRole('heading', { level: 1, name: 'Sift a log' }).waitFor();
    await page.locator('#sift-file').setInputFiles({ name: 'empty.log', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
    await page.locator('#sift-submit').click();
    const api = await apiCall(alliance, '/api/v1/sifts', { method: 'POST' });
    const shown = page.locator('#sift-error .api-message');
    await shown.waitFor();
    assert.equal((await shown.textContent()).trim(), api.json.message);
    assert.match(api.json.message, /empty/);
  });
});
