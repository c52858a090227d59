// End-to-end flow of grading (issue 15), called by flows.mjs after the education flows: a
// teacher creates an assignment worth 20 points, publishes it, grades Ava inline with the
// keyboard (Enter saves and moves to the next student; points above the maximum explained),
// returns all graded work as a background job with progress, and the student sees the grade
// and feedback on the assignment and in the to-do list of the home page. Screenshots 90-96.

const CONTOSO = 'contosoedu.onmicrosoft.com';
const CLASS = 'Mathematics 9 - S1 P1';
const NAME = `E2E: graded essay ${Date.now() % 100000}`;

export async function gradingFlows({ open, shot, check, log, noOverflow, cspClean, microsoftSignIn, nav }) {
  log('flow: grading and returning (teacher)');
  const teacher = await open();
  const tp = teacher.page;
  await microsoftSignIn(tp, `lucas.silva.t0@${CONTOSO}`, 'Teacher#2026', 'Lucas Silva');
  await nav(tp).getByRole('link', { name: 'Classes' }).click();
  await tp.getByRole('link', { name: CLASS }).click();
  await tp.getByRole('heading', { name: CLASS, level: 1 }).waitFor();
  await tp.getByRole('link', { name: 'Assignments' }).click();
  check((await tp.getByRole('link', { name: 'Download for Excel (CSV)' }).getAttribute('href')).endsWith('/gradebook?format=csv'), 'teachers get the gradebook downloads on the assignments tab');
  await tp.getByRole('button', { name: 'New assignment' }).click();
  const dialog = tp.getByRole('dialog', { name: 'New assignment' });
  await dialog.getByLabel('Name', { exact: true }).fill(NAME);
  await dialog.getByLabel('Points', { exact: true }).fill('-2');
  await dialog.getByRole('button', { name: 'Create assignment' }).click();
  await dialog.getByText('Give points from 0 up to the maximum of the assignment.').waitFor();
  check(true, 'invalid maximum points are explained before anything is sent');
  await dialog.getByLabel('Points', { exact: true }).fill('20');
  const created = tp.waitForRequest((r) => r.method() === 'POST' && /\/assignments$/.test(new URL(r.url()).pathname));
  await dialog.getByRole('button', { name: 'Create assignment' }).click();
  check((await created).postDataJSON().max_points === 20, 'the assignment is created with 20 points');
  await tp.getByText(`“${NAME}” was created.`).waitFor();
  await tp.locator('.assignment', { hasText: NAME }).getByRole('button', { name: 'Publish' }).click();
  await tp.getByText(`“${NAME}” is published: students can see it now.`).waitFor({ timeout: 30_000 });
  await tp.getByRole('link', { name: NAME }).click();
  await tp.getByRole('heading', { name: NAME, level: 1 }).waitFor();
  const counts = tp.getByTestId('submission-counts');
  await counts.waitFor();
  check(/^Handed in 0 of \d+ · 0 returned · \d+ not handed in · 0 excused$/.test(await counts.textContent()), `the counts line is shown (${await counts.textContent()})`);
  check((await tp.locator('.facts').textContent()).includes('20 points'), 'the assignment shows its points');

  // A rubric, built on the page and attached to the assignment in Microsoft 365.
  await tp.getByText('Add a rubric').click();
  await tp.getByLabel('Rubric name').fill('Essay rubric');
  await tp.getByLabel('Levels').fill('Good: 2\nPoor: 1');
  await tp.getByLabel('Qualities').fill('Argument: Persuasive');
  await tp.getByRole('button', { name: 'Add rubric' }).click();
  await tp.getByText('Check the rubric').waitFor();
  check(true, 'a quality without one description per level is explained, nothing sent');
  await tp.getByLabel('Qualities').fill('Argument: Persuasive | Unclear');
  await tp.getByRole('button', { name: 'Add rubric' }).click();
  await tp.getByTestId('rubric-summary').waitFor();
  check((await tp.getByTestId('rubric-summary').textContent()).includes('Essay rubric (1 qualities × 2 levels)'), 'the rubric is attached');
  await tp.getByLabel('Argument for Ava Garcia').selectOption({ label: 'Good (2)' });

  // Keyboard-first grading: type, Enter saves and moves to the next student.
  const avaPoints = tp.getByLabel('Points for Ava Garcia');
  await tp.getByLabel('Feedback for Ava Garcia').fill('Great method, clear results.');
  await avaPoints.focus();
  await tp.keyboard.type('18.5');
  const saved = tp.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith('/outcome'));
  await tp.keyboard.press('Enter');
  const answer = await saved;
  const sent = answer.request().postDataJSON();
  check(
    answer.status() === 200 && sent.points === 18.5 && sent.feedback === 'Great method, clear results.' && !!sent.rubric?.qualities?.[0]?.level_id,
    `Enter saves points, feedback and the rubric level (${JSON.stringify(sent)})`,
  );
  check(!('published_points' in sent) && !('publishedPoints' in sent), 'the grade is saved as a draft, never as published values');
  await tp.waitForFunction(() => {
    const label = document.activeElement?.closest('label')?.textContent ?? '';
    return label.startsWith('Points for') && !label.startsWith('Points for Ava Garcia');
  });
  const nextName = await tp.evaluate(() => document.activeElement.closest('label').textContent.replace(/^Points for /, '').replace(/ \/ 20$/, ''));
  check(true, `focus moved to the next student's points (${nextName})`);
  await tp.keyboard.type('25');
  await tp.keyboard.press('Enter');
  await tp.getByText('Give points from 0 up to the maximum of the assignment.').first().waitFor();
  check(true, 'points above the maximum are explained in the row, nothing sent');
  await tp.keyboard.press('Control+a');
  await tp.keyboard.press('Backspace');
  await shot(tp, '90-grading-inline');

  // Return all graded: a background job with progress and a result per student.
  const started = tp.waitForResponse((r) => r.url().endsWith('/return-graded'));
  await tp.getByRole('button', { name: 'Return all graded' }).click();
  check((await started).status() === 202, 'Return all graded starts a background job (202)');
  await tp.getByText('Returned 1 of 1 graded submissions.').waitFor({ timeout: 30_000 });
  const avaRow = tp.getByRole('row', { name: /Ava Garcia/ });
  await avaRow.getByText('Given back: 18.5 / 20').waitFor();
  check((await avaRow.textContent()).includes('Returned'), 'Ava’s work reads Returned after the job');
  await shot(tp, '91-return-all-graded');
  const assignmentPath = new URL(tp.url()).pathname;
  await tp.setViewportSize({ width: 375, height: 740 });
  await noOverflow(tp, 'grading (teacher, phone)');
  await tp.setViewportSize({ width: 1280, height: 860 });
  await cspClean(tp, 'grading pages');
  await teacher.context.close();

  // ---- The student: the grade and feedback on the assignment and in the to-do list.
  log('flow: the student sees their grade and feedback');
  {
    const { context, page } = await open();
    await microsoftSignIn(page, `ava.garcia0@${CONTOSO}`, 'Student#2026', 'Ava Garcia');
    await page.goto('/');
    const todo = page.getByRole('list', { name: 'To-do list' });
    const item = todo.getByRole('listitem').filter({ hasText: NAME });
    await item.waitFor();
    const text = await item.textContent();
    check(text.includes('Returned') && text.includes('18.5 / 20') && text.includes('Great method, clear results.'), `the to-do list shows the returned grade and feedback (${text})`);
    await shot(page, '92-student-todo');
    await item.getByRole('link', { name: NAME }).click();
    await page.getByRole('heading', { name: NAME, level: 1 }).waitFor();
    check(new URL(page.url()).pathname === assignmentPath, 'the to-do entry opens the assignment');
    await page.getByRole('heading', { name: 'Your grade' }).waitFor();
    check((await page.getByTestId('my-points').textContent()) === '18.5 / 20', 'the student sees 18.5 / 20 on the assignment');
    check((await page.getByTestId('my-feedback').textContent()) === 'Great method, clear results.', 'the student sees the feedback on the assignment');
    check(!(await page.getByLabel(/^Points for /).count()), 'the student gets no grading fields');
    const rubricTable = page.getByRole('table', { name: 'Rubric: Essay rubric' });
    await rubricTable.getByRole('row', { name: /Argument/ }).waitFor();
    check((await rubricTable.getByRole('row', { name: /Argument/ }).textContent()).includes('Good'), 'the student sees the rubric level they were given');
    await shot(page, '93-student-grade');
    await page.setViewportSize({ width: 375, height: 740 });
    await noOverflow(page, 'student grade (phone)');
    await page.setViewportSize({ width: 1280, height: 860 });
    await cspClean(page, 'student grade pages');
    await context.close();
  }
}
