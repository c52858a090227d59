// Issue 16's journeys (called last by flows.mjs): the first page explains EduGraph and leads to
// onboarding; an unapproved school and a personal Microsoft account are explained; a seating
// chart draft survives a reload and an expired session (sign in again, back to the same page);
// a school's class list marks the classes you belong to; error pages offer a way forward.
// Each journey that passes is recorded in the figures (audit.mjs).
import { journeys } from './audit.mjs';

const CONTOSO = 'contosoedu.onmicrosoft.com';
const FABRIKAM = 'fabrikamacademy.onmicrosoft.com';

export async function journeyFlows({ open, shot, check, log, microsoftSignIn, openClass, classId, emulator }) {
  // A Fabrikam teacher's sign-in name (the demo directory, from the emulator's control API).
  const demo = await (await fetch(`${emulator}/_emulator/demo`)).json();
  const fabrikamTeacher = demo.tenants.find((t) => t.domain === FABRIKAM).teachers[0];
  log('flow: issue 16 journeys');

  // ---- A newcomer on `/`; onboarding; an unapproved school; a personal Microsoft account.
  {
    const { context, page } = await open();
    await page.goto('/');
    await page.waitForURL('**/signin');
    const main = page.locator('main');
    // The sign-in page is a lazily loaded chunk: wait for it to render before reading it.
    await main.getByText('EduGraph is your school’s portal', { exact: false }).waitFor({ timeout: 15000 }).catch(() => {});
    check((await main.textContent()).includes('EduGraph is your school’s portal'), 'the first page says what EduGraph is and who signs in how');
    check(
      (await page.getByRole('link', { name: 'Approve EduGraph for your school' }).getAttribute('href')) === '/auth/microsoft/onboard',
      'the sign-in page leads a new school to onboarding',
    );
    journeys.push('a newcomer understands the first page');
    // A teacher of a school that has not approved EduGraph (Fabrikam withdrew its approval in
    // flows.mjs): Microsoft's "Need admin approval" page, back to EduGraph, explained with the
    // link to send to the administrator.
    await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
    await page.locator('#i0116').fill(fabrikamTeacher.upn);
    await page.locator('#i0118').fill(fabrikamTeacher.password);
    await page.locator('#idSIButton9').click();
    const back = page.getByRole('button', { name: 'Return to the application without granting consent' });
    const alert = page.getByRole('alert');
    await Promise.race([back.waitFor(), alert.waitFor()]);
    if (await back.isVisible()) await back.click();
    await alert.waitFor();
    const code = new URL(page.url()).searchParams.get('error');
    check(code === 'consent_required' || code === 'tenant_not_onboarded', `an unapproved school's teacher comes back to EduGraph (${code})`);
    const onboard = new URL('/auth/microsoft/onboard', page.url()).toString();
    check((await alert.getByRole('link', { name: onboard }).count()) === 1, 'an unapproved school gets the link to send to the administrator');
    await shot(page, '90-signin-school-not-approved');
    await page.goto('/signin?error=personal_account');
    check((await page.getByRole('alert').textContent()).includes('personal Microsoft account'), 'a personal Microsoft account is explained');
    await shot(page, '91-signin-personal-account');
    journeys.push('onboarding can be found (unapproved school, personal account explained)');
    await context.close();
  }

  // ---- A teacher's seating chart draft: reload, leaving, an expired session.
  {
    const { context, page } = await open();
    page.on('dialog', (d) => void d.accept());
    await microsoftSignIn(page, `lucas.silva.t0@${CONTOSO}`, 'Teacher#2026', 'Lucas Silva');
    await openClass(page);
    await page.getByRole('link', { name: 'Seating chart' }).click();
    await page.getByRole('button', { name: 'Save seating chart' }).waitFor();
    const from = page.locator('.seat:not(.seat-empty)').first();
    const who = (await from.locator('.seat-name').textContent()).trim();
    const to = page.locator('.seat.seat-empty').first();
    const target = await to.getAttribute('data-seat');
    await from.dragTo(to);
    const moved = page.locator(`[data-seat="${target}"]`, { hasText: who });
    await moved.waitFor();
    await page.getByText('Unsaved changes').waitFor();
    const warns = await page.evaluate(() => {
      const e = new Event('beforeunload', { cancelable: true });
      window.dispatchEvent(e);
      return e.defaultPrevented;
    });
    check(warns, 'leaving with unsaved seating changes asks first (beforeunload)');
    await page.reload();
    await moved.waitFor();
    await page.getByText(/Your unsaved changes from .* are back/).waitFor();
    check(true, 'the seating chart draft survives a reload');
    await shot(page, '92-seating-draft-restored');
    // The session ends (idle timeout): saving explains, and "Sign in again" comes back here.
    const here = new URL(page.url()).pathname;
    await context.clearCookies({ name: '__Host-sid' });
    await page.getByRole('button', { name: 'Save seating chart' }).click();
    await page.getByText('Your session has ended').waitFor();
    await shot(page, '93-seating-session-ended');
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.waitForURL('**/signin?return_to=**');
    await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
    const form = page.locator('#i0116');
    const pick = page.locator('button.acct').first();
    await Promise.race([form.waitFor(), pick.waitFor(), moved.waitFor()]);
    if (await form.isVisible()) {
      await form.fill(`lucas.silva.t0@${CONTOSO}`);
      await page.locator('#i0118').fill('Teacher#2026');
      await page.locator('#idSIButton9').click();
    } else if (await pick.isVisible()) {
      await pick.click();
    }
    await moved.waitFor();
    check(new URL(page.url()).pathname === here, `signing in again returns to the same page (${here})`);
    await page.getByRole('button', { name: 'Save seating chart' }).click();
    await page.getByText('Seating chart saved.').waitFor();
    const left = await page.evaluate((k) => localStorage.getItem(k), `edugraph.draft.seating.${classId}`);
    check(left === null, 'after saving, the draft is gone from the browser');
    journeys.push('work is never lost (seating draft: reload, leaving, expired session)');

    // ---- No dead ends: a school's classes mark yours; "Class not found" offers ways on.
    await page.goto('/classes?scope=all');
    await page.getByText('You are in this class').first().waitFor();
    const cards = await page.locator('.cards .card').allTextContents();
    const others = cards.filter((c) => !c.includes('You are in this class'));
    check(
      others.every((c) => c.includes('Only its teachers and students can open it')),
      `a school's class list marks yours and explains the others (${cards.length - others.length} yours, ${others.length} others)`,
    );
    await shot(page, '94-classes-all-marked');
    await page.goto('/classes/00000000-0000-0000-0000-000000000000');
    await page.getByRole('heading', { name: 'Class not found' }).waitFor();
    check(
      (await page.getByRole('link', { name: 'All classes of a school' }).count()) === 1 &&
        (await page.getByRole('link', { name: 'Your classes' }).count()) === 1,
      '"Class not found" offers a way forward',
    );
    await shot(page, '95-class-not-found');
    await page.goto('/no-such-page');
    // A lazily loaded page: wait for it to render before reading it.
    await page.getByRole('link', { name: 'Go to the home page' }).waitFor();
    check((await page.getByRole('link', { name: 'Go to the home page' }).count()) === 1, 'the not-found page offers a way forward');
    journeys.push('no dead ends (classes of a school, error pages)');
    await context.close();
  }
}
