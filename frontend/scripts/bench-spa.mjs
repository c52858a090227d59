#!/usr/bin/env node
// `infra/scripts/bench spa`: the web app on a weak school network. Starts `edugraph demo` on
// free ports (from a temporary directory: the binary serves the app it embeds, or
// EDUGRAPH_STATIC_DIR when set), drives Debian's Chromium through playwright-core with CDP
// throttling (1.6 Mbps down, 150 ms RTT, 4x CPU slowdown) and prints, per role and page, the
// time from navigation start to the page's main content and the JS/CSS bytes transferred, with
// a cold HTTP cache (a new browser context) and then warm (the same page loaded again).
//
// Main content: `<main>` holds an `h1` and nothing in it is still loading (`.loading`).
//
//   EDUGRAPH_BIN=path   the binary (default: $CARGO_TARGET_DIR/release/edugraph, else target/release)
//   CHROMIUM=path       the browser (default /usr/bin/chromium)
//   BENCH_RUNS=N        cold/warm runs per page, the median is printed (default 3)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const frontend = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repo = resolve(frontend, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONTOSO = 'contosoedu.onmicrosoft.com';
const PROFILE = { latency: 150, downloadThroughput: (1.6e6 / 8) | 0, uploadThroughput: (0.75e6 / 8) | 0 };
const CPU = 4;
const TARGET_COLD = 1200;
const TARGET_WARM = 600;

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One throttled load of `url` in `page`: ms to main content, JS and CSS bytes on the wire. */
async function measure(page, url) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, ...PROFILE });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU });
  const types = new Map();
  const bytes = { js: 0, css: 0, all: 0 };
  cdp.on('Network.responseReceived', (e) => types.set(e.requestId, e.type));
  cdp.on('Network.loadingFinished', (e) => {
    const t = types.get(e.requestId);
    bytes.all += e.encodedDataLength;
    if (t === 'Script') bytes.js += e.encodedDataLength;
    if (t === 'Stylesheet') bytes.css += e.encodedDataLength;
  });
  await page.goto(url, { waitUntil: 'commit' });
  const handle = await page.waitForFunction(
    () => {
      const main = document.querySelector('main');
      if (!main || !main.querySelector('h1') || main.querySelector('.loading')) return false;
      return performance.now();
    },
    null,
    { polling: 25, timeout: 60_000 },
  );
  const ms = await handle.jsonValue();
  // Let late requests (lazy chunks fetched after the content) be counted too.
  await page.waitForLoadState('networkidle').catch(() => {});
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await cdp.detach();
  return { ms: Math.round(ms), ...bytes };
}

async function signIn(browser, base, upn, password) {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
  await page.locator('#i0116').fill(upn);
  await page.locator('#i0118').fill(password);
  await page.locator('#idSIButton9').click();
  await page.getByRole('heading', { name: /^Hello, / }).waitFor();
  const state = await context.storageState();
  const json = async (path) =>
    page.evaluate(async (p) => {
      const r = await fetch(p);
      return r.ok ? r.json() : null;
    }, path);
  const classes = (await json('/api/classes'))?.items ?? [];
  let cls = null;
  let assignment = null;
  for (const c of classes) {
    const list = (await json(`/api/classes/${encodeURIComponent(c.id)}/assignments`)) ?? [];
    cls ??= c;
    if (list.length) {
      cls = c;
      assignment = list[0];
      break;
    }
  }
  await context.close();
  return { state, cls, assignment };
}

async function bench(browser, base, role, state, pages) {
  const rows = [];
  for (const [name, path] of pages) {
    const cold = [];
    const warm = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ baseURL: base, storageState: state });
      const page = await context.newPage();
      cold.push(await measure(page, base + path));
      warm.push(await measure(page, base + path));
      await context.close();
    }
    const pick = (xs) => ({ ms: median(xs.map((x) => x.ms)), js: median(xs.map((x) => x.js)), css: median(xs.map((x) => x.css)) });
    rows.push({ role, name, cold: pick(cold), warm: pick(warm) });
  }
  return rows;
}

async function main() {
  const target = process.env.CARGO_TARGET_DIR ? resolve(repo, process.env.CARGO_TARGET_DIR) : join(repo, 'target');
  const bin = process.env.EDUGRAPH_BIN ?? join(target, 'release', 'edugraph');
  const work = mkdtempSync(join(tmpdir(), 'edugraph-bench-spa-'));
  const [port, emulatorPort] = [await freePort(), await freePort()];
  const base = `http://localhost:${port}`;
  const server = spawn(
    bin,
    ['demo', '--port', String(port), '--emulator-port', String(emulatorPort), '--data-dir', join(work, 'data')],
    { cwd: process.env.BENCH_CWD ?? work, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let browser;
  try {
    await waitFor(`${base}/healthz`, 120_000);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    const rows = [];
    // The sign-in page, anonymous.
    rows.push(...(await bench(browser, base, 'anonymous', undefined, [['sign-in', '/signin']])));
    const people = [
      ['student', `ava.garcia0@${CONTOSO}`, 'Student#2026'],
      ['teacher', `lucas.silva.t0@${CONTOSO}`, 'Teacher#2026'],
      ['admin', `admin@${CONTOSO}`, 'Admin#2026'],
    ];
    for (const [role, upn, password] of people) {
      const { state, cls, assignment } = await signIn(browser, base, upn, password);
      const pages = [['classes', '/classes']];
      if (cls) pages.push(['class', `/classes/${encodeURIComponent(cls.id)}`]);
      if (cls && assignment) {
        pages.push(['assignment', `/classes/${encodeURIComponent(cls.id)}/assignments/${encodeURIComponent(assignment.id)}`]);
      }
      if (role === 'admin') pages.push(['admin', '/admin']);
      rows.push(...(await bench(browser, base, role, state, pages)));
    }
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    console.log(
      `\nSPA on 1.6 Mbps / ${PROFILE.latency} ms RTT / ${CPU}x CPU, median of ${RUNS} (targets: cold ${TARGET_COLD} ms, warm ${TARGET_WARM} ms)`,
    );
    console.log('role       page        cold ms  cold JS    cold CSS   warm ms  warm JS    warm CSS');
    let misses = 0;
    for (const r of rows) {
      const miss = r.cold.ms > TARGET_COLD || r.warm.ms > TARGET_WARM;
      if (miss) misses++;
      console.log(
        `${r.role.padEnd(10)} ${r.name.padEnd(11)} ${String(r.cold.ms).padStart(7)}  ${kb(r.cold.js).padEnd(10)} ${kb(r.cold.css).padEnd(10)} ${String(r.warm.ms).padStart(7)}  ${kb(r.warm.js).padEnd(10)} ${kb(r.warm.css).padEnd(10)}${miss ? ' over target' : ''}`,
      );
    }
    console.log(`${rows.length - misses} of ${rows.length} pages within target`);
  } finally {
    await browser?.close();
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
