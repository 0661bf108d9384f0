// Continuity in the web UI (issue 11), in a real headless Chromium against the real system on
// loopback: confirm a hit from the hit drawer (the member's node then holds the sighting), the
// hit's reputation, confirm a whole search, and the watchlists pages (add one through the form,
// see its hits and runs, delete it). Texts and accessibility checked in Japanese and English.
//
//   node --test web/tests/

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { apiCall, signedInBrowser, startAlliance } from './harness.mjs';
import { axeViolations, checkTexts } from './checks.mjs';

async function finishedSearch(alliance, body) {
  const created = await apiCall(alliance, '/api/v1/searches', { method: 'POST', body });
  assert.equal(created.status, 201, created.text);
  for (let k = 0; k < 400; k += 1) {
    const d = await apiCall(alliance, `/api/v1/searches/${created.json.id}`);
    if (d.json.status !== 'running') return created.json.id;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('search did not finish');
}

// The sightings the honeypot node holds, through its MISP API.
async function nodeSightings(alliance) {
  const { url, key } = alliance.members.honeypot;
  const res = await fetch(`${url}/sightings/restSearch`, {
    method: 'POST', headers: { Authorization: key, 'Content-Type': 'application/json', Accept: 'application/json' }, body: '{}',
  });
  assert.equal(res.status, 200);
  return (await res.json()).response;
}

describe('continuity: sightings, reputation, watchlists', { timeout: 240_000 }, () => {
  let alliance;
  let browser;
  let page;

  before(async () => {
    alliance = await startAlliance({ extraMembers: false });
    browser = await signedInBrowser(alliance);
    page = browser.page;
  });

  after(async () => {
    if (browser) await browser.close();
    if (alliance) await alliance.stop();
  });

  test('confirm a hit from the drawer, see its reputation, confirm the whole search', async () => {
    const id = await finishedSearch(alliance, { indicators: ['198.51.100.7'], members: ['honeypot', 'anonymity'], label: 'continuity' });
    await page.goto(`${alliance.url}/#/search/${id}`);
    const row = page.locator('#results-grid .grid-row[data-i]').filter({ hasText: 'honeypot' }).first();
    await row.waitFor({ timeout: 30_000 });
    await row.click();
    const drawer = page.locator('#hit-drawer');
    await drawer.waitFor();
    // The reputation asks the whole alliance (the slow member included): wait for its score.
    await drawer.locator('#rep-score').waitFor({ timeout: 30_000 });
    const rep = await apiCall(alliance, '/api/v1/indicators?value=198.51.100.7');
    assert.equal(rep.status, 200, rep.text);
    assert.equal((await drawer.locator('#rep-score').innerText()).trim(), String(rep.json.score));
    assert.match(await drawer.locator('.reputation').innerText(), /Score = 100 × consensus/);
    assert.deepEqual((await checkTexts(page, 'en')).problems, [], 'drawer texts');
    assert.deepEqual(await axeViolations(page), [], 'drawer axe');

    await drawer.locator('#drawer-sight-true-positive').click();
    await drawer.locator('#drawer-sight-out .sighting-result').waitFor({ timeout: 20_000 });
    assert.match(await drawer.locator('#drawer-sight-out').innerText(), /honeypot: 1 sent, 0 refused, 0 failed/);
    const sent = await apiCall(alliance, `/api/v1/searches/${id}/sightings`);
    assert.deepEqual(sent.json.map((s) => [s.member, s.outcome, s.type]), [['honeypot', 'sent', 'true-positive']]);
    const atNode = await nodeSightings(alliance);
    assert.equal(atNode.length, 1);
    assert.equal(atNode[0].Sighting.value, '198.51.100.7');
    await page.keyboard.press('Escape');

    // The whole search, as false positives.
    const panel = page.locator('#search-sightings');
    await panel.waitFor();
    await panel.locator('#search-sight-false-positive').click();
    await panel.locator('#search-sight-out .sighting-result').waitFor({ timeout: 20_000 });
    const text = await panel.locator('#search-sight-out').innerText();
    assert.match(text, /False positive sent\.\s+honeypot: 1 sent, 0 refused, 0 failed/);
    const after2 = await apiCall(alliance, `/api/v1/searches/${id}/sightings`);
    assert.equal(after2.json.filter((s) => s.type === 'false-positive' && s.outcome === 'sent').length, 1);
    assert.equal((await nodeSightings(alliance)).length, 2);
  });

  test('add a watchlist through the form, see its hits and runs, delete it', async () => {
    await page.goto(`${alliance.url}/#/watchlists`);
    await page.getByRole('heading', { level: 1, name: 'Watchlists' }).waitFor();
    await page.locator('#watch-name').fill('case 42');
    await page.locator('#watch-iocs').fill('198.51.100.7\n# a comment\n203.0.113.9\nnothing.example\n');
    await page.locator('#watch-interval').fill('1h');
    await page.locator('#watch-submit').click();
    await page.locator('#watch-form-result').getByText('Watchlist case 42 added').waitFor({ timeout: 10_000 });
    const link = page.locator('.watch-table a', { hasText: 'case 42' });
    await link.waitFor();
    const list = await apiCall(alliance, '/api/v1/watchlists');
    assert.equal(list.json.length, 1);
    assert.equal(list.json[0].indicators, 3);
    assert.equal(list.json[0].interval_s, 3600);
    assert.match(await page.locator('.watch-table').innerText(), /every hour/);
    // Its first run waits for the slow member's timeout.
    const wid = list.json[0].id;
    for (let k = 0; k < 300; k += 1) {
      const runs = await apiCall(alliance, `/api/v1/watchlists/${wid}/runs`);
      if (runs.json.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await link.click();
    await page.getByRole('heading', { level: 1, name: 'case 42' }).waitFor();
    const w = await apiCall(alliance, `/api/v1/watchlists/${wid}`);
    await page.locator('#watch-current-h').getByText(`Current hits (${w.json.current_hits.length})`).waitFor();
    assert.ok(w.json.current_hits.length >= 2, JSON.stringify(w.json.current_hits));
    const hitsTable = await page.locator('.watch-hits').first().innerText();
    assert.match(hitsTable, /198\.51\.100\.7/);
    assert.match(hitsTable, /203\.0\.113\.9/);
    assert.match(await page.locator('.watch-runs').innerText(), /first run/);
    assert.deepEqual((await checkTexts(page, 'en')).problems, [], 'watchlist texts');
    assert.deepEqual(await axeViolations(page), [], 'watchlist axe');

    // In Japanese.
    await page.locator('#lang').selectOption('ja');
    await page.locator('nav a[data-route="watchlists"]').getByText('ウォッチリスト').waitFor();
    assert.deepEqual((await checkTexts(page, 'ja')).problems, [], 'watchlist texts in Japanese');
    await page.goto(`${alliance.url}/#/watchlists`);
    await page.getByRole('heading', { level: 1, name: 'ウォッチリスト' }).waitFor();
    await page.locator('.watch-table').waitFor();
    assert.deepEqual((await checkTexts(page, 'ja')).problems, [], 'watchlists texts in Japanese');
    assert.deepEqual(await axeViolations(page), [], 'watchlists axe in Japanese');

    await page.goto(`${alliance.url}/#/watchlist/${wid}`);
    page.once('dialog', (d) => d.accept());
    await page.locator('#watch-delete').click();
    await page.waitForURL(/#\/watchlists$/);
    await page.locator('#watchlists-body .empty').waitFor();
    assert.equal((await apiCall(alliance, '/api/v1/watchlists')).json.length, 0);
  });
});
