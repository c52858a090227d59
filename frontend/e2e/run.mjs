#!/usr/bin/env node
// End-to-end test of the built SPA in a real browser: starts `edugraph demo` on free ports
// from a temporary directory, so it serves the app embedded in the binary (build the app before
// the binary; EDUGRAPH_STATIC_DIR=frontend/dist serves the files on disk instead), drives Debian's Chromium through
// playwright-core, and saves a screenshot of every page under frontend/e2e/screenshots/.
// This file covers local accounts; flows.mjs the school portal (admin, teacher, student, linking).
//
//   npm run e2e                    # builds the binary with cargo first (CARGO_TARGET_DIR honoured)
//   EDUGRAPH_BIN=path npm run e2e  # use an already built binary
//   CHROMIUM=/path/to/chromium     # another browser binary (default /usr/bin/chromium)
//   Development only: E2E_BASE=http://localhost:8080 E2E_EMULATOR=http://127.0.0.1:8090 drive a
//   running fresh `edugraph demo`; E2E_FLOWS_ONLY=1 runs flows.mjs alone.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { audit, journeys, writeFigures } from './audit.mjs';
import { flows } from './flows.mjs';
import { confirmEmail, mailedLink } from './mail.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const frontend = resolve(here, '..');
const repo = resolve(frontend, '..');
const shots = join(here, 'screenshots');
const started = Date.now();

function log(msg) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

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

/** The edugraph binary: EDUGRAPH_BIN, or built now and copied aside (the target dir is shared). */
function binary(work) {
  if (process.env.EDUGRAPH_BIN) return process.env.EDUGRAPH_BIN;
  log('cargo build -p edugraph');
  const build = spawnSync('cargo', ['build', '--locked', '-p', 'edugraph'], { cwd: repo, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('cargo build -p edugraph failed');
  const target = process.env.CARGO_TARGET_DIR ? resolve(repo, process.env.CARGO_TARGET_DIR) : join(repo, 'target');
  const copy = join(work, 'edugraph');
  copyFileSync(join(target, 'debug', 'edugraph'), copy);
  return copy;
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    try {
      const r = await fetch(url);
      if (r.ok) return r;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${ms} ms (${last})`);
}

const violations = [];
const pageErrors = [];

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}

async function main() {
  if (!existsSync(join(frontend, 'dist', 'index.html'))) {
    log('frontend/dist is missing: npm run build');
    const b = spawnSync('npm', ['run', 'build'], { cwd: frontend, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('npm run build failed');
  }
  const work = mkdtempSync(join(tmpdir(), 'edugraph-e2e-'));
  if (!process.env.E2E_FLOWS_ONLY) rmSync(shots, { recursive: true, force: true });
  for (const f of existsSync(shots) ? readdirSync(shots) : []) if (f.startsWith('failed-')) rmSync(join(shots, f));
  mkdirSync(shots, { recursive: true });
  // E2E_BASE=http://host:port: drive an already running `edugraph demo` (development only).
  const external = process.env.E2E_BASE;
  const bin = external ? '' : binary(work);
  const [port, emulatorPort] = [await freePort(), await freePort()];
  const base = external ?? `http://localhost:${port}`;

  log(`edugraph demo on ${base}`);
  const server = external
    ? spawn('sleep', ['3600'], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(
        bin,
        ['demo', '--port', String(port), '--emulator-port', String(emulatorPort), '--data-dir', join(work, 'data')],
        { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
      );
  let serverLog = '';
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  const exited = new Promise((r) => server.on('exit', r));

  let browser;
  try {
    await waitFor(`${base}/healthz`, 60_000);
    const root = await waitFor(`${base}/`, 5_000);
    check(root.headers.get('content-security-policy')?.includes("script-src 'self'"), 'the page has the SPA CSP');
    check(root.status === 200, 'the demo started from a temporary directory serves the app (embedded in the binary)');

    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    if (!process.env.E2E_FLOWS_ONLY) await run(browser, base);
    const emulator = process.env.E2E_EMULATOR ?? `http://127.0.0.1:${emulatorPort}`;
    await flows(browser, base, { check, log, shots, violations, pageErrors, emulator });
    check(violations.length === 0, `zero CSP violations in every flow (${violations.join(' | ')})`);
    check(pageErrors.length === 0, `no script errors in any flow (${pageErrors.join(' | ')})`);
    log(writeFigures(shots));
    log(`screenshots in ${shots}`);
  } catch (e) {
    console.error(`\n--- edugraph demo output (last 4000 characters) ---\n${serverLog.slice(-4000)}`);
    throw e;
  } finally {
    await browser?.close();
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

async function run(browser, base) {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => {
    if (/Content.Security.Policy|violates/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // Also count violations reported to the page itself (securitypolicyviolation events).
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  // The detector itself works: an inline style injected into the page must be reported.
  {
    const probe = await context.newPage();
    const seen = [];
    probe.on('console', (m) => {
      if (/Content.Security.Policy|violates/i.test(m.text())) seen.push(m.text());
    });
    await probe.goto('/signin');
    await probe.evaluate(() => {
      const s = document.createElement('style');
      s.textContent = 'body { color: red }';
      document.head.append(s);
    });
    await probe.waitForTimeout(300);
    const events = await probe.evaluate(() => window.__csp ?? []);
    check(seen.length > 0 && events.length > 0, 'the CSP blocks an injected inline style and the detector sees it');
    await probe.close();
  }

  const shot = async (name, p = page) => {
    await audit(p, name, check);
    await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };
  const heading = (p = page) => p.locator('h1').textContent();
  const cspEvents = async (p = page) => p.evaluate(() => window.__csp ?? []);

  const email = `e2e-${Date.now()}@school.edu`;
  const password1 = 'tulips in the rain 42';
  const password2 = 'a brand new passphrase';
  const password3 = 'recovered by mail 2026';

  // Anonymous: the home page sends you to sign in.
  await page.goto('/');
  await page.waitForURL('**/signin');
  check((await heading()) === 'Sign in', 'anonymous visitors land on Sign in');
  check(
    (await page.getByRole('link', { name: 'Sign in with Microsoft' }).getAttribute('href')) === '/auth/microsoft/login',
    '"Sign in with Microsoft" goes to /auth/microsoft/login',
  );
  await shot('01-signin');

  // Register: client-side validation first, then a real account.
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.waitForURL('**/register');
  await page.getByRole('button', { name: 'Create account' }).click();
  check(await page.getByText('This field is required.').first().isVisible(), 'empty register form shows field errors');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  check(
    await page.getByText('The password must be at least 8 characters long.').isVisible(),
    'a short password is explained',
  );
  check(
    (await page.evaluate(() => document.activeElement?.getAttribute('name'))) === 'password',
    'focus moves to the invalid field',
  );
  await shot('02-register-errors');
  await page.getByLabel('Your name (optional)').fill('Erin Example');
  await page.getByLabel('Password', { exact: true }).fill(password1);
  await page.getByLabel('Teal').check();
  await shot('03-register');
  await page.getByRole('button', { name: 'Create account' }).click();
  // R-B3: the account waits for its email to be confirmed (the link + the password).
  await page.getByRole('heading', { name: 'Check your email', level: 1 }).waitFor();
  check((await page.locator('main').textContent()).includes(email), '"Check your email" names the address');
  check((await page.evaluate(async () => (await fetch('/api/me')).status)) === 401, 'registering does not sign in');
  await shot('03a-register-check-email');
  {
    // Signing in before confirming is refused in words, and a new link is mailed.
    const early = await browser.newContext({ baseURL: base });
    const ep = await early.newPage();
    await ep.goto('/signin');
    await ep.getByLabel('Email').fill(email);
    await ep.getByLabel('Password').fill(password1);
    await ep.getByRole('button', { name: 'Sign in', exact: true }).click();
    await ep.getByRole('alert').getByText('Confirm your email first').waitFor();
    check(true, 'an unconfirmed account cannot sign in; the page says why');
    await shot('03b-signin-email-unverified', ep);
    await early.close();
  }
  const verifyHref = await mailedLink(context, email, '/verify-email');
  await page.goto(verifyHref);
  await page.getByRole('heading', { name: 'Confirm your email', level: 1 }).waitFor();
  check(!page.url().includes('#token='), 'the token leaves the address bar once read');
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await page.getByRole('alert').getByText('That is not the password of this account.').waitFor();
  check(true, 'confirming needs the password chosen at registration');
  await shot('03c-verify-email');
  await page.getByLabel('Password').fill(password1);
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
  await page.waitForURL(`${base}/`);
  await page.getByRole('heading', { name: 'Hello, Erin Example' }).waitFor();
  check(await page.getByText(email).isVisible(), 'home shows the email');
  check(await page.getByText('#00796b').isVisible(), 'home shows the favourite colour');
  check((await page.locator('.who-name').textContent()) === 'Erin Example', 'the header names the person');
  await shot('04-home');

  // Phone-sized screen.
  await page.setViewportSize({ width: 375, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  check(!overflow, 'no horizontal scrolling on a phone-sized screen');
  await shot('05-home-phone');
  await page.setViewportSize({ width: 1280, height: 860 });

  // Sign out, then sign in again as the remembered person.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/signin');
  // The sign-in page is a lazily loaded chunk (not loaded yet in this tab since the confirmation link's full page load).
  await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
  check(await page.getByText('You are signed out.').isVisible(), 'sign-out is confirmed');
  const me = await page.evaluate(async () => (await fetch('/api/me')).status);
  check(me === 401, 'the session is gone after sign-out');
  await shot('06-signed-out');
  // Issue 16 item 8: without "remember me on this device" nobody sees who was here.
  const signedOutText = await page.locator('main').textContent();
  check(!signedOutText.includes('Erin Example') && !signedOutText.includes(email), 'after sign-out the page shows neither name nor email (not remembered)');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password1);
  await page.getByLabel('Remember me on this device').check();
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Hello, Erin Example' }).waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/signin');
  await shot('06a-signed-out-remembered');
  await page.getByRole('button', { name: 'Sign in again as Erin Example' }).click();
  check((await page.getByLabel('Email').inputValue()) === email, '"remember me" ticked: "Sign in again as" fills in the email');
  await page.getByLabel('Password').fill(password1);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Hello, Erin Example' }).waitFor();
  check(true, 'signed in with the first password');
  journeys.push('privacy on shared computers (remember me)');

  // Change the password (keyboard only: Tab between fields, Enter submits).
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Password' }).click();
  await page.waitForURL('**/password');
  // Pages load on demand (route-level code splitting): wait for this one before the axe check.
  await page.getByRole('heading', { name: 'Change password', level: 1 }).waitFor();
  await shot('07-change-password');
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password', { exact: true }).fill(password2);
  await page.getByLabel('New password again').fill(password2);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Your current password is incorrect.').waitFor();
  check(true, 'a wrong current password is explained');
  await page.getByLabel('Current password').focus();
  await page.keyboard.type(password1);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.getByText('Your password was changed.').waitFor();
  check(true, 'password changed (keyboard submit)');
  await shot('08-password-changed');

  // Sign out; the old password is refused with a human message; the new one works.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/signin');
  await page.getByRole('button', { name: 'Use a different account' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password1);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('alert').getByText('The email or password is incorrect.').waitFor();
  check(true, 'the old password is refused with a human message');
  await shot('09-signin-wrong-password');
  await page.getByLabel('Password').fill(password2);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Hello, Erin Example' }).waitFor();
  check(true, 'signed in with the new password');

  // Forgot password (issue 17.5, R-B4): the sign-in page's link, the demo outbox, a new password,
  // every session ended, the linked identities shown, then sign in with the new password.
  {
    const other = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 860 } });
    const fp = await other.newPage();
    fp.on('pageerror', (e) => pageErrors.push(String(e)));
    await fp.goto('/signin');
    await fp.getByRole('link', { name: 'Forgot password?' }).click();
    await fp.getByRole('heading', { name: 'Forgot your password?', level: 1 }).waitFor();
    await shot('09a-forgot-password', fp);
    await fp.getByLabel('Email').fill(email);
    await fp.getByRole('button', { name: 'Send me a link' }).click();
    await fp.getByRole('heading', { name: 'Check your email', level: 1 }).waitFor();
    check((await fp.locator('main').textContent()).includes('If an account uses'), 'the answer does not say whether the account exists');
    await shot('09b-forgot-password-sent', fp);
    const resetHref = await mailedLink(other, email, '/reset-password');
    await fp.goto(resetHref);
    await fp.getByRole('heading', { name: 'Choose a new password', level: 1 }).waitFor();
    check(!fp.url().includes('#token='), 'the reset token leaves the address bar once read');
    check(!(await fp.evaluate(() => window.location.hash)), 'and the history entry');
    await fp.getByLabel('New password', { exact: true }).fill(password3);
    await fp.getByLabel('New password again').fill('something else entirely');
    await fp.getByRole('button', { name: 'Set new password' }).click();
    await fp.getByText('The two new passwords are not the same.').waitFor();
    check(true, 'two different new passwords are caught before anything is sent');
    await shot('09c-reset-password', fp);
    await fp.getByLabel('New password again').fill(password3);
    await fp.getByRole('button', { name: 'Set new password' }).click();
    await fp.getByRole('heading', { name: 'Your password was changed', level: 1 }).waitFor();
    check((await fp.locator('main').textContent()).includes(email), 'the reset page names the account');
    await shot('09d-reset-password-done', fp);
    // Used once: the same link again is refused, with a way to ask for a new one.
    // (From another page: the same URL with only a fragment would not load the page again.)
    await fp.goto('/signin');
    await fp.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    await fp.goto(resetHref);
    await fp.getByRole('heading', { name: 'Choose a new password', level: 1 }).waitFor();
    await fp.getByLabel('New password', { exact: true }).fill('one more new passphrase');
    await fp.getByLabel('New password again').fill('one more new passphrase');
    await fp.getByRole('button', { name: 'Set new password' }).click();
    await fp.getByRole('heading', { name: 'This link does not work', level: 1 }).waitFor();
    check(await fp.getByRole('link', { name: 'Request a new link' }).isVisible(), 'a used link offers a new one');
    await shot('09e-reset-link-invalid', fp);
    await other.close();
    // The reset ended the session of the first browser.
    check((await page.evaluate(async () => (await fetch('/api/me')).status)) === 401, 'a reset ends every session');
    await page.goto('/signin');
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    const different = page.getByRole('button', { name: 'Use a different account' });
    if (await different.isVisible()) await different.click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password3);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Hello, Erin Example' }).waitFor();
    check(true, 'signed in with the password chosen through the reset link');
    journeys.push('forgot password: mailed link, new password, every session ended (R-B4)');
  }

  // A page reload keeps the session (cookie) and a deep link renders the right page.
  await page.goto('/password');
  check((await heading()) === 'Change password', 'deep link to /password after reload');

  // Not found.
  await page.goto('/no-such-page');
  check((await heading()) === 'Page not found', 'unknown paths show Not found');
  await shot('10-not-found');

  // A teacher signs in with Microsoft through the (emulated) Microsoft sign-in page.
  {
    const ms = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 860 } });
    const mp = await ms.newPage();
    await mp.goto('/signin');
    await mp.getByRole('link', { name: 'Sign in with Microsoft' }).click();
    await mp.locator('#i0116').waitFor();
    await shot('13-microsoft-sign-in-page', mp);
    await mp.locator('#i0116').fill('lucas.silva.t0@contosoedu.onmicrosoft.com');
    await mp.locator('#i0118').fill('Teacher#2026');
    await mp.locator('#idSIButton9').click();
    await mp.getByRole('heading', { name: 'Hello, Lucas Silva' }).waitFor();
    check((await mp.locator('main').textContent()).includes('Teacher'), 'a teacher signs in with Microsoft and has the Teacher role');
    await shot('14-home-microsoft-teacher', mp);
    check((await cspEvents(mp)).length === 0, 'no CSP violations after the Microsoft round trip');
    // A failed Microsoft sign-in lands on Sign in with what to do next.
    const anon = await browser.newContext({ baseURL: base });
    const ap = await anon.newPage();
    await ap.goto('/signin?error=tenant_not_onboarded');
    check((await ap.getByRole('alert').textContent()).includes('has not approved EduGraph yet'), 'sign-in errors are explained');
    await shot('15-signin-microsoft-error', ap);
    await anon.close();
    await ms.close();
  }

  // An anonymous phone-sized visit to sign in.
  const phone = await browser.newContext({ baseURL: base, viewport: { width: 375, height: 740 } });
  const p2 = await phone.newPage();
  p2.on('console', (m) => {
    if (/Content.Security.Policy|violates/i.test(m.text())) violations.push(m.text());
  });
  await p2.goto('/register');
  await p2.getByRole('heading', { name: 'Create an account' }).waitFor();
  await shot('11-register-phone', p2);
  await p2.keyboard.press('Tab');
  check(
    (await p2.evaluate(() => document.activeElement?.textContent)) === 'Skip to content',
    'the first Tab reaches "Skip to content"',
  );
  // A server-side error lands next to its field, in words: the email is taken. A custom colour too.
  await p2.getByLabel('Email').fill(email);
  await p2.getByLabel('Password', { exact: true }).fill('another long passphrase');
  await p2.getByLabel('Other').check();
  await p2.getByLabel('Pick a colour').fill('#123abc');
  await p2.getByRole('button', { name: 'Create account' }).click();
  await p2.getByText('An account with this email already exists.').waitFor();
  check(
    (await p2.getByLabel('Email').getAttribute('aria-invalid')) === 'true',
    'email_taken is shown at the email field',
  );
  await shot('12-register-email-taken-phone', p2);
  await phone.close();

  const events = await cspEvents();
  check(violations.length === 0 && events.length === 0, `zero CSP violations (${[...violations, ...events].join(' | ')})`);
  check(pageErrors.length === 0, `no script errors (${pageErrors.join(' | ')})`);
  await context.close();
}

main().then(
  () => {
    log('e2e passed');
    process.exit(0);
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
