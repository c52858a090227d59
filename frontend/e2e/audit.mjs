// Every page the e2e suite takes a screenshot of is audited here first (R-A11Y): axe-core
// (WCAG 2.x A/AA rules and best practices) must find no violation, and the page must not scroll
// sideways at 320, 390 and 1280 px wide. The figures (violations per page, widths checked) are
// written to screenshots/figures.json and printed at the end of the run.
//
// axe-core is evaluated through the DevTools protocol, which the page's Content-Security-Policy
// does not govern (an injected <script> would be blocked by `script-src 'self'`, as it should).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const WIDTHS = [320, 390, 1280];

/** Journeys of issue 16 covered by this run (pushed by journeys.mjs as each one passes). */
export const journeys = [];

/** Per page name: { violations: [ids], widths: [..] }. */
export const figures = new Map();

/** Runs axe-core on the page as it is; returns the violations (id, impact, nodes). */
export async function axe(page) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1, 2).join('')}`),
    }));
  });
}

/** How many CSS pixels the page is wider than the window (0 = no horizontal scrolling). */
async function excess(page) {
  return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
}

/**
 * Audits the page: axe-core at the current size, then horizontal overflow at every width of
 * WIDTHS (the viewport is restored after). Throws (fails the suite) on any finding.
 */
export async function audit(page, name, strictCheck) {
  // Development only: E2E_AUDIT_SOFT=1 logs findings without failing (to survey a branch).
  const check = process.env.E2E_AUDIT_SOFT
    ? (ok, what) => (ok ? strictCheck(true, what) : console.log(`AUDIT FINDING: ${what}`))
    : strictCheck;
  const size = page.viewportSize() ?? { width: 1280, height: 860 };
  // Let the page settle (a pending fetch renders a spinner, then the content).
  await page.waitForLoadState('load').catch(() => {});
  const found = await axe(page);
  const record = { page: name, path: new URL(page.url()).pathname, violations: found.map((v) => v.id), widths: [] };
  figures.set(name, record);
  const detail = found.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.join('; ')}`).join(' | ');
  check(found.length === 0, `axe-core: no violations on ${name} (${detail})`);
  const wide = [];
  for (const width of WIDTHS) {
    if (width !== size.width) await page.setViewportSize({ width, height: size.height });
    const over = await excess(page);
    record.widths.push(width);
    if (over > 1) wide.push(`${width} px: ${over} px too wide (${await culprits(page)})`);
  }
  await page.setViewportSize(size);
  check(wide.length === 0, `no horizontal scrolling at ${WIDTHS.join('/')} px on ${name} (${wide.join(', ')})`);
}

/** The innermost elements that stick out on the right (to say what to fix). */
async function culprits(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('main *, header *')) {
      const r = el.getBoundingClientRect();
      if (r.right <= window.innerWidth + 1 || r.width === 0) continue;
      if ([...el.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1)) continue;
      out.push(`${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} ends at ${Math.round(r.right)}`);
      if (out.length === 4) break;
    }
    return out.join('; ');
  });
}

/** Writes screenshots/figures.json and returns a one-line summary. */
export function writeFigures(shots) {
  const pages = [...figures.values()];
  const total = pages.reduce((n, p) => n + p.violations.length, 0);
  writeFileSync(join(shots, 'figures.json'), JSON.stringify({ pages, journeys }, null, 2));
  return `${pages.length} pages audited with axe-core (${total} violations), each checked at ${WIDTHS.join('/')} px; ${journeys.length} journeys covered`;
}
