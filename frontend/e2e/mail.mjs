// The demo's outbox (GET /api/demo/outbox, demo mode only): account mail the demo would have
// sent. Journeys read their confirmation and reset links there, as a person reads their mail
// (issue 17.5). The outbox page itself is a plain developer page, so it is not screenshotted.

/** The newest link to `/{page}#token=…` mailed to `email`; waits up to 10 s for it to arrive. */
export async function mailedLink(context, email, path) {
  const probe = await context.newPage();
  try {
    for (let i = 0; i < 50; i++) {
      await probe.goto('/api/demo/outbox');
      const href = await probe.evaluate(
        ({ email, path }) => {
          for (const mail of document.querySelectorAll('article.mail')) {
            if (mail.querySelector('.to')?.textContent?.trim().toLowerCase() !== email.toLowerCase()) continue;
            const a = [...mail.querySelectorAll('a')].find((l) => new URL(l.href).pathname === path && l.hash.startsWith('#token='));
            if (a) return a.href;
          }
          return null;
        },
        { email, path },
      );
      if (href) return href;
      await probe.waitForTimeout(200);
    }
    throw new Error(`no ${path} link mailed to ${email}`);
  } finally {
    await probe.close();
  }
}

/** Opens the confirmation link mailed to `email` in `page` and confirms with `password` (R-B3). */
export async function confirmEmail(page, email, password) {
  const href = await mailedLink(page.context(), email, '/verify-email');
  await page.goto(href);
  await page.getByRole('heading', { name: 'Confirm your email', level: 1 }).waitFor();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Confirm and sign in' }).click();
}
