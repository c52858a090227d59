// End-to-end flows of the education API's pages (called by flows.mjs after the teacher's and
// student's first flows): a teacher creates a draft, edits it (due date in Europe/Paris, only
// the changed fields sent; Microsoft's refusal shown), attaches a file with the progress bar
// reaching 100 % (Publish held meanwhile), publishes and sees Microsoft's asynchronous
// "publishing" finish; a student sees the file, adds their own with progress, hands in (and is
// refused more files, in words and by the server); the teacher returns it; the school people
// page with its tabs and "See more"; a student is refused the school's people. Screenshots 70-89.
import { Buffer } from 'node:buffer';
import { journeys } from './audit.mjs';

const CONTOSO = 'contosoedu.onmicrosoft.com';
const CLASS = 'Mathematics 9 - S1 P1';
const NAME = 'E2E: lab report with a file';
const EDITED = 'E2E: lab report (edited)';

/** Records every value the upload progress bar shows, and whether Publish was held meanwhile. */
function watchProgress(page) {
  return page.evaluate(() => {
    window.__progress = [];
    window.__publishHeld = [];
    const seen = () => {
      const bar = document.querySelector('[role="progressbar"][aria-label^="Upload"]');
      if (!bar) return;
      window.__progress.push(Number(bar.getAttribute('aria-valuenow')));
      if (!bar.getAttribute('aria-label').startsWith('Uploading ')) return;
      const publish = Array.from(document.querySelectorAll('button')).find((b) => b.textContent === 'Publish to students');
      if (publish) window.__publishHeld.push(publish.disabled);
    };
    new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  });
}

export async function educationFlows({ open, shot, check, log, noOverflow, cspClean, microsoftSignIn, nav }) {
  log('flow: assignment files, edits and publishing (teacher)');
  const teacher = await open({ timezoneId: 'Europe/Paris' });
  const tp = teacher.page;
  await microsoftSignIn(tp, `lucas.silva.t0@${CONTOSO}`, 'Teacher#2026', 'Lucas Silva');
  await nav(tp).getByRole('link', { name: 'Classes' }).click();
  await tp.getByRole('link', { name: CLASS }).click();
  await tp.getByRole('heading', { name: CLASS, level: 1 }).waitFor();
  await tp.getByRole('link', { name: 'Assignments' }).click();
  await tp.getByRole('button', { name: 'New assignment' }).click();
  const dialog = tp.getByRole('dialog', { name: 'New assignment' });
  await dialog.getByLabel('Name', { exact: true }).fill(NAME);
  await dialog.getByLabel('Due', { exact: true }).fill('2026-12-04T16:30');
  // A file chosen in the dialog is attached right after the assignment is created.
  await dialog.getByLabel('Files for students (optional)').setInputFiles({
    name: 'instructions.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('Measure the boiling point of water.\n'),
  });
  await dialog.getByRole('button', { name: 'Create assignment' }).click();
  await tp.getByText(`“${NAME}” was created.`).waitFor();
  // The assignment page reuses the class the class page loaded (a 6-request Graph batch).
  const classReads = [];
  const countClassReads = (r) => {
    if (r.method() === 'GET' && /^\/api\/classes\/[^/]+$/.test(new URL(r.url()).pathname)) classReads.push(r.url());
  };
  tp.on('request', countClassReads);
  await tp.getByRole('link', { name: NAME }).click();
  await tp.getByRole('heading', { name: NAME, level: 1 }).waitFor();
  tp.off('request', countClassReads);
  check(classReads.length === 0, `the assignment page reuses the class the class page loaded (${classReads.length} class requests)`);
  check((await tp.locator('.facts').textContent()).includes('Draft'), 'the new assignment is a draft');
  await tp.locator('.resources', { hasText: 'instructions.txt' }).waitFor();
  check(true, 'the file chosen in the New assignment dialog is attached');

  // Edit: the due date comes back in the teacher's zone; only the changed fields are sent.
  await tp.getByRole('button', { name: 'Edit', exact: true }).click();
  const edit = tp.getByRole('dialog', { name: 'Edit assignment' });
  const dueField = edit.getByLabel('Due', { exact: true });
  check((await dueField.inputValue()) === '2026-12-04T16:30', 'the edit dialog shows the due date in the teacher’s time zone (Europe/Paris)');
  await edit.getByLabel('Name', { exact: true }).fill('');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await edit.getByText('This field is required.').waitFor();
  check(true, 'an empty name is explained at the field before anything is sent');
  await edit.getByLabel('Name', { exact: true }).fill(EDITED);
  await dueField.fill('2026-12-05T08:00');
  await shot(tp, '70-assignment-edit-dialog');
  const patched = tp.waitForRequest((r) => r.method() === 'PATCH');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  const body = (await patched).postDataJSON();
  check(
    JSON.stringify(body) === JSON.stringify({ display_name: EDITED, due: '2026-12-05T08:00:00+01:00' }),
    `the edit sends only the changed name and due time, with the teacher's offset (${JSON.stringify(body)})`,
  );
  await tp.getByText('Saved: the assignment is updated in Microsoft 365.').waitFor();
  await tp.getByRole('heading', { name: EDITED, level: 1 }).waitFor();
  check((await tp.locator('.facts').textContent()).includes('Dec 5, 2026, 8:00'), 'the edited due date is shown in the teacher’s time zone');
  await tp.reload();
  await tp.getByRole('heading', { name: EDITED, level: 1 }).waitFor();
  check(true, 'the edited name is kept by Microsoft 365 (still there after a reload)');

  // Microsoft's refusal in the assignment's state (the emulated answer is the API's real envelope).
  await tp.route(/\/api\/classes\/[^/]+\/assignments\/[^/?]+$/, (route) =>
    route.request().method() === 'PATCH'
      ? route.fulfill({
          status: 409,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'assignment_not_editable', message: 'Microsoft 365 does not allow this change.' } }),
        })
      : route.fallback(),
  );
  await tp.getByRole('button', { name: 'Edit', exact: true }).click();
  await edit.getByLabel('Instructions').fill('Write up the experiment.');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await edit.getByText(/^Not saved\. Microsoft 365 refused this change/).waitFor();
  check(
    (await edit.getByRole('alert').textContent()).includes('Nothing was changed.'),
    'assignment_not_editable is explained in the dialog, which stays open',
  );
  await shot(tp, '71-assignment-edit-refused');
  await tp.unroute(/\/api\/classes\/[^/]+\/assignments\/[^/?]+$/);
  await edit.getByRole('button', { name: 'Cancel' }).click();

  // Files: checked before sending, then uploaded with the progress bar.
  const upload = tp.getByRole('form', { name: 'File for students' });
  let sent = 0;
  const countUploads = (r) => {
    if (r.method() === 'POST' && r.url().includes('/files?')) sent += 1;
  };
  tp.on('request', countUploads);
  await upload.getByLabel('File for students').setInputFiles({ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
  await upload.getByText('The file is empty.').waitFor();
  await upload.getByLabel('File for students').setInputFiles({ name: 'what?.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
  await upload.getByText('Rename the file').waitFor();
  await upload.getByRole('button', { name: 'Attach file' }).click();
  check(sent === 0, 'an empty file and a name Microsoft refuses are explained before anything is sent');
  // 6 MiB: more than the 4 MiB of a simple PUT, so the server uses an upload session.
  const big = Buffer.alloc(6 * 1024 * 1024, 'lab sheet ');
  await upload.getByLabel('File for students').setInputFiles({ name: 'lab-sheet.pdf', mimeType: 'application/pdf', buffer: big });
  await watchProgress(tp);
  // Uploads at 8 MiB/s (DevTools network throttling), so the bar is seen moving.
  const cdp = await teacher.context.newCDPSession(tp);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 8 * 1024 * 1024 });
  const answered = tp.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/files?name=lab-sheet.pdf'));
  await upload.getByRole('button', { name: 'Attach file' }).click();
  check((await answered).status() === 201, 'the 6 MiB file is uploaded (201)');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await upload.getByText('“lab-sheet.pdf” is attached.').waitFor();
  const progress = await tp.evaluate(() => window.__progress);
  const held = await tp.evaluate(() => window.__publishHeld);
  const steps = [...new Set(progress)];
  check(steps.some((v) => v > 0 && v < 100) && Math.max(...progress) === 100, `the upload progress bar moves and reaches 100 % (${steps.join(', ')})`);
  check(progress.every((v, i) => i === 0 || v >= progress[i - 1]), 'the upload progress never goes backwards');
  check(held.length > 0 && held.every(Boolean), 'Publish waits while the file is uploading');
  await tp.locator('.resources', { hasText: 'lab-sheet.pdf' }).waitFor();
  tp.off('request', countUploads);
  await shot(tp, '72-assignment-file-attached');

  // Publish: Microsoft answers "published" (still publishing); the page polls until assigned.
  // The first poll is held back a moment so the intermediate state can be seen.
  let held1 = false;
  await tp.route(/\/api\/classes\/[^/]+\/assignments\/[^/?]+$/, async (route) => {
    if (route.request().method() === 'GET' && !held1) {
      held1 = true;
      await new Promise((r) => setTimeout(r, 1500));
    }
    await route.fallback();
  });
  const published = tp.waitForResponse((r) => r.url().endsWith('/publish'));
  await tp.getByRole('button', { name: 'Publish to students' }).click();
  const answer = await (await published).json();
  check(answer.publishing === true && answer.status === 'published', 'Microsoft answers the publish with "publishing" first');
  await tp.getByText('Microsoft 365 is still publishing it').waitFor();
  check((await tp.locator('.facts .badge').textContent()) === 'Publishing…', 'the page shows "Publishing…" while Microsoft publishes');
  await shot(tp, '73-assignment-publishing');
  await tp.getByText('Published: students can see it now.').waitFor({ timeout: 30_000 });
  check((await tp.locator('.facts .badge').textContent()) === 'Published', 'polling ends when Microsoft has published it');
  await tp.unroute(/\/api\/classes\/[^/]+\/assignments\/[^/?]+$/);
  const assignmentUrl = tp.url();
  await tp.getByRole('row', { name: /Ava Garcia/ }).waitFor();
  check(true, 'the students have submissions once it is published');
  await cspClean(tp, 'assignment files pages');

  // School people: tabs, "See more" with our cursor (5 per page here, so there are pages).
  log('flow: school people (teacher)');
  await tp.goto('/schools');
  const peopleLink = tp.getByRole('link', { name: /^People of / }).first();
  const schoolPeopleUrl = await peopleLink.getAttribute('href');
  await tp.route(/\/api\/schools\/[^/]+\/people\?/, (route) => route.fallback({ url: `${route.request().url()}&limit=5` }));
  await peopleLink.click();
  await tp.getByRole('heading', { name: /^People of / }).waitFor();
  await tp.getByText(/^5 people shown — there are more\./).waitFor();
  const seeMore = tp.waitForRequest((r) => r.url().includes('/people?') && r.url().includes('cursor='));
  await tp.getByRole('button', { name: 'See more' }).click();
  const cursor = new URL((await seeMore).url()).searchParams.get('cursor');
  check(cursor && !cursor.includes('graph') && !cursor.includes('http'), 'See more sends our opaque cursor, not a Graph link');
  await tp.getByText(/^10 people shown/).waitFor();
  check((await tp.locator('.school-people .person').count()) === 10, '"See more" appends the next page');
  await shot(tp, '74-school-people-all');
  await tp.getByRole('navigation', { name: 'Which people' }).getByRole('link', { name: 'Teachers' }).click();
  await tp.getByText(/teachers? shown/).waitFor();
  const teacherBadges = await tp.locator('.school-people .badge').allTextContents();
  check(teacherBadges.length > 0 && teacherBadges.every((b) => b === 'Teacher'), `the Teachers tab lists teachers only (${teacherBadges.length})`);
  check(new URL(tp.url()).search === '?tab=teachers', 'the tab is in the address');
  await shot(tp, '75-school-people-teachers');
  await tp.getByRole('navigation', { name: 'Which people' }).getByRole('link', { name: 'Students' }).click();
  await tp.getByText(/students? shown/).waitFor();
  const studentBadges = await tp.locator('.school-people .badge').allTextContents();
  check(studentBadges.length > 0 && studentBadges.every((b) => b === 'Student'), `the Students tab lists students only (${studentBadges.length})`);
  // Keyboard: the tabs are links in order; Enter on "All" goes back.
  await tp.getByRole('navigation', { name: 'Which people' }).getByRole('link', { name: 'All' }).focus();
  await tp.keyboard.press('Enter');
  await tp.getByText(/^5 people shown/).waitFor();
  check(new URL(tp.url()).search === '', 'keyboard: Enter on the All tab shows everyone again');
  await tp.setViewportSize({ width: 375, height: 740 });
  await noOverflow(tp, 'school people');
  await shot(tp, '76-school-people-phone');
  await tp.goto(new URL(assignmentUrl).pathname);
  await tp.getByRole('heading', { name: EDITED, level: 1 }).waitFor();
  await noOverflow(tp, 'assignment with files (teacher)');
  await tp.setViewportSize({ width: 1280, height: 860 });
  await tp.unroute(/\/api\/schools\/[^/]+\/people\?/);
  await cspClean(tp, 'school people pages');

  // ---- The student: sees the file, adds one of their own, hands in.
  log('flow: student adds a file and hands in');
  {
    const { context, page } = await open();
    await microsoftSignIn(page, `ava.garcia0@${CONTOSO}`, 'Student#2026', 'Ava Garcia');
    await page.goto(new URL(assignmentUrl).pathname);
    await page.getByRole('heading', { name: EDITED, level: 1 }).waitFor();
    await page.locator('.resources', { hasText: 'lab-sheet.pdf' }).waitFor();
    await page.locator('.resources', { hasText: 'instructions.txt' }).waitFor();
    check(true, 'the student sees the files the teacher attached');
    // Issue 16 item 1: the teacher's file opens (its Microsoft 365 address, read in a $batch).
    const handout = page.locator('.resources').getByRole('link', { name: 'lab-sheet.pdf' });
    check(/^https?:\/\//.test((await handout.getAttribute('href')) ?? ''), 'the handout is a link to its Microsoft 365 address');
    journeys.push('handouts open (file resources are links)');
    // Issue 16 item 2: handing in with no file at all asks first; "Cancel" hands in nothing.
    await page.getByRole('button', { name: 'Hand in' }).click();
    await page.getByRole('alertdialog', { name: 'Hand in without a file?' }).waitFor();
    await shot(page, '76a-student-empty-hand-in-confirm');
    await page.getByRole('button', { name: 'Cancel' }).click();
    check(!(await page.getByText('Handed in.', { exact: true }).count()), 'an empty hand-in asks for confirmation; cancelling hands in nothing');
    const mine = page.getByRole('form', { name: 'Add a file to your work' });
    await mine.getByLabel('Add a file to your work').setInputFiles({
      name: 'my-report.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('My lab report: the water boiled at 100 °C.\n'.repeat(2000)),
    });
    await watchProgress(page);
    // Issue 16 item 2: the file is chosen but "Attach file" is not pressed: "Hand in" attaches it first.
    await page.getByRole('button', { name: 'Hand in' }).click();
    await page.getByText('Handed in.', { exact: true }).waitFor();
    const p = await page.evaluate(() => window.__progress);
    check(p.length > 0 && Math.max(...p) === 100, `the student's upload progress reaches 100 % (${[...new Set(p)].join(', ')})`);
    await page.locator('.resources', { hasText: 'my-report.txt' }).waitFor();
    await page.getByText('Handed in.', { exact: true }).waitFor();
    check(true, '"Hand in" with a chosen, unattached file attaches it first, then hands in');
    journeys.push('no empty hand-in by mistake');
    await shot(page, '77-student-file-added');
    await mine.getByText('Your work is handed in, so no files can be added.').waitFor();
    check(await mine.getByLabel('Add a file to your work').isDisabled(), 'after handing in, adding files is explained and disabled');
    const refused = await page.evaluate(async (path) => {
      const me = await (await fetch('/api/me')).json();
      const [, , cls, , asg] = path.split('/');
      const subs = await (await fetch(`/api/classes/${cls}/assignments/${asg}/submissions`)).json();
      const r = await fetch(`/api/classes/${cls}/assignments/${asg}/submissions/${subs[0].id}/files?name=late.txt`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream', 'X-CSRF-Token': me.csrf_token },
        body: 'late work',
      });
      return [r.status, (await r.json()).error.code];
    }, new URL(assignmentUrl).pathname);
    check(refused.join(' ') === '409 submission_turned_in', `the server refuses files on handed-in work too (${refused.join(' ')})`);
    await shot(page, '78-student-handed-in');
    // A new visit still lists the file (read back from Microsoft, not remembered).
    await page.reload();
    await page.getByRole('heading', { name: EDITED, level: 1 }).waitFor();
    const myFiles = page.getByRole('list', { name: 'Files in your work' });
    await myFiles.getByRole('link', { name: 'my-report.txt' }).waitFor();
    check((await myFiles.textContent()).includes('added'), 'after a reload the student still sees the file they added, with when');
    await shot(page, '82-student-files-after-reload');
    await page.setViewportSize({ width: 375, height: 740 });
    await noOverflow(page, 'assignment with files (student)');
    await shot(page, '79-student-assignment-phone');
    await page.setViewportSize({ width: 1280, height: 860 });
    // A student gets no school people: no link, and the page explains why.
    await page.goto('/schools');
    await page.getByRole('heading', { name: 'Your schools' }).waitFor();
    await page.locator('.cards .card').first().waitFor();
    check(!(await page.getByRole('link', { name: /^People of / }).count()), 'a student has no "People of" link on Schools');
    await page.goto(schoolPeopleUrl);
    await page.getByText('Only teachers and administrators can see who is in a school.').waitFor();
    check(true, 'a student opening a school’s people sees why not (role_required)');
    await shot(page, '80-student-school-people-refused');
    await cspClean(page, 'student assignment pages');
    await context.close();
  }

  // ---- The teacher sees the handed-in work and returns it.
  log('flow: teacher returns the work with a file');
  await tp.goto(new URL(assignmentUrl).pathname);
  const row = tp.getByRole('row', { name: /Ava Garcia/ });
  await row.waitFor();
  check((await row.textContent()).includes('Handed in'), 'the teacher sees Ava’s work handed in');
  const avaFile = row.getByRole('list', { name: 'Files of Ava Garcia' }).getByRole('link', { name: 'my-report.txt' });
  await avaFile.waitFor();
  check(
    (await avaFile.getAttribute('href')).endsWith('my-report.txt') && (await avaFile.getAttribute('target')) === '_blank',
    'the teacher sees the file Ava added in the submissions list, with a link that opens it in Microsoft 365',
  );
  const others = await tp.getByRole('cell', { name: 'No files' }).count();
  check(others > 0, `students without files read "No files" (${others})`);
  await shot(tp, '83-submissions-teacher-files');
  await row.getByRole('button', { name: 'Return: Ava Garcia' }).click();
  await tp.getByText('Ava Garcia: Returned to the student.').waitFor();
  check((await row.textContent()).includes('Returned'), 'the teacher returns it');
  await shot(tp, '81-submission-returned');
  // The list's Edit opens the same dialog, filled in; Escape closes it (keyboard).
  await tp.getByRole('link', { name: /: assignments$/ }).click();
  await tp.locator('.assignment', { hasText: EDITED }).first().getByRole('button', { name: 'Edit', exact: true }).click();
  const listEdit = tp.getByRole('dialog', { name: 'Edit assignment' });
  check((await listEdit.getByLabel('Name', { exact: true }).inputValue()) === EDITED, 'Edit on the assignments list opens the dialog filled in');
  await tp.keyboard.press('Escape');
  await listEdit.waitFor({ state: 'hidden' });
  check(true, 'keyboard: Escape closes the edit dialog');
  await teacher.context.close();
}
