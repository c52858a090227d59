#!/usr/bin/env node
// Signs a demo Microsoft 365 account in through the emulator's pages (Debian's Chromium via
// playwright-core) and prints `<cookie header>\t<csrf token>` for tools that call the API as
// that person (infra/scripts/schemathesis).
//   node scripts/session-for.mjs http://localhost:8080 upn password
import { chromium } from 'playwright-core';

const [base, upn, password] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  await page.goto('/signin');
  await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
  await page.locator('#i0116').fill(upn);
  await page.locator('#i0118').fill(password);
  await page.locator('#idSIButton9').click();
  await page.getByRole('heading', { name: /^Hello, / }).waitFor();
  const me = await page.evaluate(async () => (await fetch('/api/me')).json());
  const cookies = (await context.cookies(base)).map((c) => `${c.name}=${c.value}`).join('; ');
  console.log(`${cookies}\t${me.csrf_token}`);
} finally {
  await browser.close();
}
