// Test harness for the web UI: starts the REAL system on loopback (iocgrid member nodes, an
// iocgrid portal serving web/), and a real headless Chromium driven by playwright-core.
//
// Environment:
//   IOCGRID_BINARY   the iocgrid binary (default: <repo>/build/core-dev/iocgrid)
//   CHROMIUM         the Chromium executable (default: /usr/bin/chromium, Debian's `chromium`)
//   IOCGRID_KEEP_TMP=1  keep the temp directory (configs, data, logs) after the run
//   IOCGRID_WEB_HEADFUL=1  show the browser (needs a display)

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const WEB_DIR = path.resolve(here, '..');
export const REPO = path.resolve(WEB_DIR, '..');
export const SCREENSHOTS = path.join(here, 'screenshots');
// The screenshots README.md and README.ja.md show (committed) are rewritten only when asked
// (`make screenshots` sets IOCGRID_DOC_SCREENSHOTS=1): a test run never changes the source tree.
export const DOC_SCREENSHOTS = process.env.IOCGRID_DOC_SCREENSHOTS === '1'
  ? path.join(REPO, 'docs', 'screenshots')
  : path.join(SCREENSHOTS, 'docs');

export const BINARY = process.env.IOCGRID_BINARY || path.join(REPO, 'build/core-dev/iocgrid');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Runs the binary to completion; resolves {stdout, stderr}; rejects with both on failure.
export function run(args, { timeoutMs = 60_000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    execFile(BINARY, args, { timeout: timeoutMs, cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${path.basename(BINARY)} ${args.join(' ')} failed (${err.code ?? err.signal}):\n${stderr}\n${stdout}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

// Servers still running; killed if the test process dies without stopping them (Ctrl-C, crash).
const live = new Set();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const p of live) p.kill('SIGKILL');
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  });
}

// A long-running process: resolves once its output matches `ready` (a regex whose group 1 is the
// base URL); the log goes to logFile too.
export function startServer(args, { ready, timeoutMs = 30_000, logFile, name }) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    proc.on('exit', () => live.delete(proc));
    const log = logFile ? fs.createWriteStream(logFile) : null;
    let output = '';
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      proc.kill('SIGKILL');
      reject(new Error(`${name}: not listening after ${timeoutMs} ms; output:\n${output}`));
    }, timeoutMs);
    const onData = (chunk) => {
      const text = chunk.toString();
      output += text;
      if (log) log.write(text);
      const m = ready.exec(output);
      if (m && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({ proc, url: m[1], name, output: () => output, stop: () => stopProcess(proc) });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${name}: cannot start ${BINARY}: ${err.message}`));
    });
    proc.on('exit', (code, signal) => {
      if (log) log.end();
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${name}: exited (${code ?? signal}) before listening; output:\n${output}`));
    });
  });
}

export function stopProcess(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const kill = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill('SIGTERM');
    return undefined;
  });
}

// A loopback port nobody listens on (bound, then closed): a member that is down.
export function closedPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A loopback server that accepts connections and never answers: a member that hangs.
export function hangingServer() {
  return new Promise((resolve, reject) => {
    const sockets = new Set();
    const srv = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
      sock.on('close', () => sockets.delete(sock));
      sock.resume();  // read and ignore the request
    });
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve({
      port: srv.address().port,
      stop: () => new Promise((done) => {
        for (const s of sockets) s.destroy();
        srv.close(() => done());
      }),
    }));
  });
}

const tomlString = (s) => JSON.stringify(String(s));  // a TOML basic string is JSON-compatible here

// Fails early with a useful message when the binary or its portal command is missing.
export async function checkBinary() {
  if (!fs.existsSync(BINARY)) {
    throw new Error(`iocgrid binary not found at ${BINARY}: build it (cmake -S . -B build/core-dev -G Ninja && ninja -C build/core-dev iocgrid) or set IOCGRID_BINARY`);
  }
  let help = '';
  try {
    help = (await run(['portal', '--help'])).stdout;
  } catch (err) {
    help = String(err.message);
  }
  if (!/serve/.test(help) || !/users/.test(help)) {
    throw new Error(`${BINARY} has no \`portal serve\` / \`portal users\` command yet:\n${help.slice(0, 600)}`);
  }
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM`);
  }
}

export const SLOW_TIMEOUT_MS = 4000;

// Member data used by the tests. Values are documentation ranges (RFC 5737) and example.* names.
export const DATA = {
  honeypotList: ['198.51.100.7', '198.51.100.8', '203.0.113.0/24', '2001:db8:dead::1'],
  anonymityCsv: 'domain,comment\nevil.example,phishing kit\nbad.example,c2 server\n',
  sequoia: path.join(REPO, 'data/members/honeypot/sequoia-unauthorized-access.txt'),
};

// Starts an alliance on loopback: "honeypot" and "anonymity" iocgrid nodes, an "offline" member
// whose URL points at a closed port, a "slow" member that accepts connections and never answers
// (so every search stays running for SLOW_TIMEOUT_MS, long enough to watch it live), and the
// portal serving web/ and the API. Two more members are the anonymity node again under other
// names and disclosure levels: "vendor" (existence only) and "agency" (counts only), so the UI
// shows withheld details and counts-only rows from real answers.
//
// `bulk: N` adds two nodes with generated data for N indicators: "sensors" holds N addresses
// (10.x.y.z) and "ranges" every fifth /24 network around them, so a search for the N addresses
// has 1.2·N hits (exact, and in-range for a fifth). Returns the URLs, an analyst's and an admin's key, and stop().
//
// For the alliance's sightings and trends: `orgs` ([{name, sector}]) become [[orgs]] tables
// (organisations that report but hold no data), `users` ([{name, org}]) analysts of those
// organisations (their keys in `userKeys`, by name), `kAnonymity` the portal's k_anonymity, and
// `honeypotTags` tags every event of the honeypot node (say, a threat actor for the trends).
export async function startAlliance({
  bulk = 0, extraMembers = true, orgs = [], users = [], kAnonymity = 0, honeypotTags = [],
} = {}) {
  await checkBinary();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iocgrid-web-'));
  const procs = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop()));
    if (process.env.IOCGRID_KEEP_TMP) console.error(`# kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    // member data files
    const files = path.join(tmp, 'files');
    fs.mkdirSync(files);
    const honeypotList = path.join(files, 'honeypot-list.txt');
    fs.writeFileSync(honeypotList, `# test honeypot list\n${DATA.honeypotList.join('\n')}\n`);
    const anonymityCsv = path.join(files, 'anonymity-domains.csv');
    fs.writeFileSync(anonymityCsv, DATA.anonymityCsv);

    async function node(name, importFiles, tags = []) {
      const data = path.join(tmp, `node-${name}`);
      const { stdout } = await run(['node', 'keys', 'create', '--data', data, '--org', name, '--role', 'admin']);
      const key = stdout.trim().split(/\s+/).pop();
      if (!/^[A-Za-z0-9]{40}$/.test(key)) throw new Error(`node keys create printed no key: ${stdout}`);
      const tagArgs = tags.flatMap((t) => ['--tag', t]);
      await run(['node', 'import', '--data', data, '-q', ...tagArgs, ...importFiles], { timeoutMs: 120_000 });
      const srv = await startServer(['node', 'serve', '--data', data, '--listen', '127.0.0.1:0'], {
        ready: /listening on (https?:\/\/[^\s()]+)/, name: `node ${name}`, logFile: path.join(tmp, `node-${name}.log`),
      });
      procs.push(srv);
      return { name, url: srv.url, key };
    }

    const importHoneypot = [honeypotList];
    if (fs.existsSync(DATA.sequoia)) importHoneypot.push(DATA.sequoia);
    const starts = [node('honeypot', importHoneypot, honeypotTags), node('anonymity', [anonymityCsv])];
    if (bulk) {
      const { addresses, networks } = bulkData(bulk);
      const sensorsList = path.join(files, 'sensor-addresses.txt');
      fs.writeFileSync(sensorsList, `${addresses.join('\n')}\n`);
      const rangesList = path.join(files, 'hosting-ranges.txt');
      fs.writeFileSync(rangesList, `${networks.join('\n')}\n`);
      starts.push(node('sensors', [sensorsList]), node('ranges', [rangesList]));
    }
    const [honeypot, anonymity, sensors, ranges] = await Promise.all(starts);
    const offlinePort = await closedPort();
    const slow = await hangingServer();
    procs.push(slow);

    const configPath = path.join(tmp, 'portal.toml');
    const member = (m) => [
      '[[members]]',
      `name = ${tomlString(m.name)}`,
      `display_name = ${tomlString(m.display_name)}`,
      `sector = ${tomlString(m.sector)}`,
      'kind = "iocgrid"',
      `url = ${tomlString(m.url)}`,
      `key = ${tomlString(m.key)}`,
      `timeout_ms = ${m.timeout_ms || 5000}`,
      `disclosure = ${tomlString(m.disclosure || 'full')}`,
      m.data_kind ? `data_kind = ${tomlString(m.data_kind)}` : '',
      '',
    ].join('\n');
    const members = [
      member({ ...honeypot, display_name: 'Honeypot network', sector: 'research', data_kind: 'honeypot' }),
      member({ ...anonymity, display_name: 'Anonymity infrastructure', sector: 'cloud', data_kind: 'anonymizer' }),
      member({
        name: 'offline', display_name: 'Offline member', sector: 'government',
        url: `http://127.0.0.1:${offlinePort}`, key: 'X'.repeat(40), timeout_ms: 3000,
      }),
      member({
        name: 'slow', display_name: 'Slow member', sector: 'finance',
        url: `http://127.0.0.1:${slow.port}`, key: 'Y'.repeat(40), timeout_ms: SLOW_TIMEOUT_MS,
      }),
    ];
    if (extraMembers) {
      members.push(
        member({ ...anonymity, name: 'vendor', display_name: 'Security vendor', sector: 'it', disclosure: 'existence', data_kind: 'threat' }),
        member({ ...anonymity, name: 'agency', display_name: 'National agency', sector: 'government', disclosure: 'count' }));
    }
    if (bulk) {
      members.push(
        member({ ...sensors, display_name: 'Sensor grid', sector: 'telecom', data_kind: 'scanner', timeout_ms: 60000 }),
        member({ ...ranges, display_name: 'Hosting ranges', sector: 'cloud', data_kind: 'cloud', timeout_ms: 60000 }));
    }
    fs.writeFileSync(configPath, [
      'listen = "127.0.0.1:0"',
      `data = ${tomlString(path.join(tmp, 'portal-data'))}`,
      kAnonymity ? `k_anonymity = ${Number(kAnonymity)}` : '',
      '',
      ...members,
      ...orgs.map((o) => ['[[orgs]]', `name = ${tomlString(o.name)}`, `sector = ${tomlString(o.sector)}`, ''].join('\n')),
    ].join('\n'));

    const { stdout: userOut } = await run(['portal', 'users', 'create', '--config', configPath, '--name', 'alice', '--role', 'analyst']);
    const key = userOut.trim().split(/\s+/).pop();
    if (!key) throw new Error(`portal users create printed no key: ${userOut}`);
    const { stdout: adminOut } = await run(['portal', 'users', 'create', '--config', configPath, '--name', 'root', '--role', 'admin']);
    const adminKey = adminOut.trim().split(/\s+/).pop();
    const userKeys = {};
    for (const u of users) {
      const { stdout } = await run(['portal', 'users', 'create', '--config', configPath, '--name', u.name, '--role', 'analyst', '--org', u.org]);
      userKeys[u.name] = stdout.trim().split(/\s+/).pop();
      if (!userKeys[u.name]) throw new Error(`portal users create printed no key for ${u.name}: ${stdout}`);
    }

    const portal = await startServer(['portal', 'serve', '--config', configPath], {
      ready: /listening on (https?:\/\/[^\s()]+)/, name: 'portal', logFile: path.join(tmp, 'portal.log'),
    });
    procs.push(portal);
    return {
      tmp, configPath, key, adminKey, userKeys, url: portal.url.replace(/\/$/, ''), portal,
      members: { honeypot, anonymity, sensors, ranges, offlinePort, slowPort: slow.port }, stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// N distinct addresses 10.a.b.c (c in 1..250), and every fifth /24 network among those that
// hold them: each address is held exactly, a fifth of them in range too.
export function bulkData(n) {
  const addresses = [];
  const networks = [];
  for (let k = 0; k < n; k += 1) {
    const net = Math.floor(k / 250);
    const a = Math.floor(net / 256);
    const b = net % 256;
    addresses.push(`10.${a}.${b}.${(k % 250) + 1}`);
    if (k % 250 === 0 && net % 5 === 0) networks.push(`10.${a}.${b}.0/24`);
  }
  return { addresses, networks, inRange: (k) => Math.floor(k / 250) % 5 === 0 };
}

// API helper for cross-checking what the UI shows against what the API says.
export async function apiCall(alliance, pathname, { method = 'GET', key = alliance.key, body } = {}) {
  const res = await fetch(alliance.url + pathname, {
    method,
    headers: { Authorization: key, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

// A fresh headless Chromium (its own empty --user-data-dir) via playwright-core. No browser
// download: Debian's chromium package.
// `locale` sets the browser's preferred language (navigator.languages) and time zone: 'ja-JP'
// is Japan Standard Time, anything else UTC.
// A browser signed in to the portal as the analyst (English, the new-search page shown).
export async function signedInBrowser(alliance, options = {}) {
  const browser = await launchBrowser({ colorScheme: 'light', ...options });
  const { page } = browser;
  await page.goto(`${alliance.url}/`);
  await page.locator('#key').fill(alliance.key);
  await page.locator('#key').press('Enter');
  await page.getByRole('heading', { level: 1, name: 'New search' }).waitFor();
  return browser;
}

export async function launchBrowser({ colorScheme = 'dark', viewport = { width: 1400, height: 950 }, locale = 'en-US' } = {}) {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'iocgrid-web-chromium-'));
  const headful = Boolean(process.env.IOCGRID_WEB_HEADFUL);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: !headful,
    args: [
      ...(headful ? [] : ['--headless']),
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport,
    colorScheme,
    locale,
    timezoneId: locale.startsWith('ja') ? 'Asia/Tokyo' : 'UTC',
    permissions: ['clipboard-read', 'clipboard-write'],
    acceptDownloads: true,
    timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
  const errors = [];
  const track = (page) => {
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
    });
  };
  context.pages().forEach(track);
  context.on('page', track);
  return {
    context,
    errors,
    page: context.pages()[0] || (await context.newPage()),
    close: async () => {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    },
  };
}

export function screenshotPath(name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, name);
}

// Parses RFC 4180 CSV (quoted fields, doubled quotes, line breaks in quotes).
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let k = 0; k < text.length; k += 1) {
    const c = text[k];
    if (quoted) {
      if (c === '"' && text[k + 1] === '"') { field += '"'; k += 1; } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[k + 1] === '\n') k += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, k) => [h, r[k]])));
}
