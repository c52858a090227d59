import { describe, expect, it } from 'vitest';
import {
  MAX_BULK,
  NO_AUDIT_FILTERS,
  NO_USER_FILTERS,
  auditActionError,
  auditActorError,
  auditActionLabel,
  hasAuditLabel,
  auditKey,
  auditQuery,
  availability,
  draftOf,
  itemError,
  licenceName,
  mergeItems,
  parseIds,
  selectShown,
  shownState,
  toggleSelected,
  usedPercent,
  userChanges,
  userDraftErrors,
  userFiltersFrom,
  userFiltersPath,
  usersKey,
  usersQuery,
  usersShown,
  type AdminLicense,
  type AdminUser,
} from './admin';
import { jobSummary, jobTitle, type Job } from './jobs';

const params = (q: string) => Object.fromEntries(new URLSearchParams(q));

describe('users list', () => {
  it('sends the filters, trimmed, and only the cursor (with the fields) for "see more"', () => {
    const f = { search: ' ada ', department: 'Faculty', jobTitle: '', enabled: 'false' as const };
    expect(params(usersQuery(f))).toEqual({
      select: 'display_name,user_principal_name,job_title,department,account_enabled,usage_location',
      search: 'ada',
      department: 'Faculty',
      enabled: 'false',
    });
    expect(params(usersQuery(f, 'c.1'))).toEqual({ select: expect.any(String), cursor: 'c.1' });
    expect(params(usersQuery(NO_USER_FILTERS))).toEqual({ select: expect.any(String) });
  });

  it('keeps the filters in the address, and a new filter is a new list', () => {
    const f = { search: 'Ava', department: 'Students', jobTitle: 'Teacher', enabled: 'true' as const };
    expect(userFiltersPath(f)).toBe('/admin/users?search=Ava&department=Students&job_title=Teacher&enabled=true');
    expect(userFiltersFrom('?search=Ava&department=Students&job_title=Teacher&enabled=true')).toEqual(f);
    expect(userFiltersFrom('?enabled=maybe').enabled).toBe('');
    expect(userFiltersPath(NO_USER_FILTERS)).toBe('/admin/users');
    expect(usersKey({ ...f, search: 'ava ' })).toBe(usersKey(f));
    expect(usersKey({ ...f, enabled: 'false' })).not.toBe(usersKey(f));
  });

  it('says how many are shown and what was filtered', () => {
    expect(usersShown(25, 311, NO_USER_FILTERS)).toBe('25 of 311 users shown.');
    expect(usersShown(1, undefined, { ...NO_USER_FILTERS, search: 'ava', enabled: 'false' })).toBe(
      '1 user shown named “ava”, who are disabled.',
    );
    expect(usersShown(2, 1, NO_USER_FILTERS)).toBe('2 users shown.');
  });
});

describe('choosing users for a bulk operation', () => {
  const a: AdminUser = { id: 'a', display_name: 'Ava' };
  const b: AdminUser = { id: 'b', user_principal_name: 'ben@x.edu' };
  const c: AdminUser = { id: 'c' };

  it('toggles one, selects or clears everyone shown, and keeps earlier choices', () => {
    let sel = toggleSelected(new Map(), a, true);
    expect([...sel]).toEqual([['a', 'Ava']]);
    expect(shownState(sel, [a, b])).toBe('some');
    sel = selectShown(sel, [b, c], true);
    expect([...sel]).toEqual([['a', 'Ava'], ['b', 'ben@x.edu'], ['c', 'c']]);
    expect(shownState(sel, [b, c])).toBe('all');
    sel = selectShown(sel, [b, c], false);
    expect([...sel.keys()]).toEqual(['a']);
    expect(shownState(sel, [b, c])).toBe('none');
    expect([...toggleSelected(sel, a, false)]).toEqual([]);
  });

  it('stops at the bulk limit', () => {
    let sel: ReadonlyMap<string, string> = new Map();
    for (let i = 0; i < MAX_BULK + 5; i++) sel = toggleSelected(sel, { id: `u${i}` }, true);
    expect(sel.size).toBe(MAX_BULK);
  });
});

describe('editing a user', () => {
  const u: AdminUser = { id: 'u1', display_name: 'Ava Garcia', job_title: 'Teacher', department: null, usage_location: 'US' };

  it('sends only what changed; an emptied field clears it; usage location upper-cased', () => {
    const d = draftOf(u);
    expect(d.department).toBe('');
    expect(userChanges(u, d)).toEqual({});
    expect(userChanges(u, { ...d, job_title: ' Teacher ', department: 'Maths', usage_location: 'fr' })).toEqual({
      department: 'Maths',
      usage_location: 'FR',
    });
    expect(userChanges(u, { ...d, job_title: '' })).toEqual({ job_title: '' });
  });

  it('checks the display name, sign-in name and usage location like the server', () => {
    expect(userDraftErrors({ display_name: ' ', user_principal_name: '' })).toEqual({
      display_name: 'required',
      user_principal_name: 'required',
    });
    expect(userDraftErrors({ user_principal_name: 'ava garcia@x.com' }).user_principal_name).toBe('invalid_upn');
    expect(userDraftErrors({ user_principal_name: '.ava@x.com' }).user_principal_name).toBe('invalid_upn');
    expect(userDraftErrors({ user_principal_name: 'ava.@x.com' }).user_principal_name).toBe('invalid_upn');
    expect(userDraftErrors({ user_principal_name: "o'neil.ava@contoso.edu" })).toEqual({});
    expect(userDraftErrors({ usage_location: 'USA' }).usage_location).toBe('invalid_usage_location');
    expect(userDraftErrors({ usage_location: '' })).toEqual({});
  });
});

describe('licences', () => {
  const sku = (o: Partial<AdminLicense>): AdminLicense => ({
    sku_id: 's1',
    sku_part_number: 'STANDARDWOFFPACK_FACULTY',
    capability_status: 'Enabled',
    enabled_units: 500,
    consumed_units: 11,
    available_units: 489,
    ...o,
  });

  it('says how many are left, and explains "none left"', () => {
    expect(availability(sku({}))).toEqual({ canAssign: true, text: '489 of 500 left.' });
    const none = availability(sku({ consumed_units: 500, available_units: 0 }));
    expect(none.canAssign).toBe(false);
    expect(none.text).toMatch(/^None left: all 500 are in use\. Remove this licence from someone/);
    expect(availability(sku({ capability_status: 'Suspended' })).canAssign).toBe(false);
    expect(availability(sku({ enabled_units: 1_000_000, available_units: 999_700 })).text).toBe('999,700 of 1,000,000 left.');
    expect(usedPercent(sku({}))).toBe(2);
    expect(usedPercent(sku({ enabled_units: 0, consumed_units: 0 }))).toBe(100);
  });

  it('names common education licences', () => {
    expect(licenceName(sku({}))).toBe('Office 365 A1 for faculty (STANDARDWOFFPACK_FACULTY)');
    expect(licenceName(sku({ sku_part_number: 'SOMETHING_ELSE' }))).toBe('SOMETHING_ELSE');
    expect(licenceName(sku({ sku_part_number: null }))).toBe('s1');
    expect(licenceName(undefined, 'abc')).toBe('abc');
  });
});

describe('bulk operations', () => {
  it('reads pasted ids: any separator, duplicates once, invalid ones named', () => {
    expect(parseIds('a-1\nb-2, c-3;A-1  \n\n')).toEqual({ ids: ['a-1', 'b-2', 'c-3'], invalid: [] });
    // Issue 16: pasted emails / sign-in names are accepted (the server looks them up).
    expect(parseIds('a-1 ada@contoso.edu')).toEqual({ ids: ['a-1', 'ada@contoso.edu'], invalid: [] });
    expect(parseIds('a-1 not@an-address')).toEqual({ ids: ['a-1'], invalid: ['not@an-address'], error: 'invalid_person' });
    expect(parseIds(' \n ').error).toBe('required');
    const many = Array.from({ length: MAX_BULK + 1 }, (_, i) => `id-${i}`).join('\n');
    expect(parseIds(many).error).toBe('too_many_ids');
  });

  it('explains a failed item: our codes in our words, Graph codes with Graph’s message', () => {
    expect(itemError('no_licenses_available: Subscription with SKU x does not have any available licenses.').code).toBe(
      'no_licenses_available',
    );
    expect(itemError('no_licenses_available: whatever').text).toMatch(/None of this licence is left|whatever/);
    expect(itemError('not_found')).toEqual({ code: 'not_found', text: 'Not found in your school’s directory.' });
    expect(itemError('Request_BadRequest: Invalid object identifier.')).toEqual({
      code: 'Request_BadRequest',
      text: 'Invalid object identifier.',
    });
    expect(itemError(null)).toEqual({ code: '', text: '' });
  });

  it('appends result pages in order without repeating an item', () => {
    const i = (seq: number) => ({ seq, item_id: `u${seq}`, result: 'done' });
    expect(mergeItems([i(0), i(1)], [i(1), i(3), i(2)]).map((x) => x.seq)).toEqual([0, 1, 2, 3]);
  });

  it('words the progress of each kind of job', () => {
    const job = (o: Partial<Job>): Job => ({
      id: 'j', kind: 'bulk_add_members', status: 'running', total: 47, done: 20, failed: 1, already: 1,
      created_at: 0, updated_at: 0, ...o,
    });
    expect(jobTitle(job({}))).toBe('Add members');
    expect(jobSummary(job({}))).toBe('22 of 47 members handled (20 added, 1 already in the group, 1 failed).');
    expect(jobSummary(job({ kind: 'bulk_assign_licenses', status: 'succeeded', done: 45 }))).toBe(
      'Finished: 45 licensed, 1 already licensed, 1 failed out of 47 people.',
    );
    expect(jobTitle(job({ kind: 'enable_user_access' }))).toBe('Enable user access');
  });
});

describe('audit log', () => {
  it('sends the filters and the cursor; checks the action like the server', () => {
    expect(params(auditQuery({ action: ' Admin. ', result: 'failure', actor: '' }, 'c2'))).toEqual({
      limit: '50',
      action: 'admin.',
      result: 'failure',
      cursor: 'c2',
    });
    expect(params(auditQuery(NO_AUDIT_FILTERS))).toEqual({ limit: '50' });
    expect(auditKey({ action: 'Admin.', result: '', actor: '' })).toBe(auditKey({ action: 'admin.', result: '', actor: '' }));
    expect(auditActionError('admin.user.create')).toBeUndefined();
    expect(auditActionError('admin user')).toBe('invalid_audit_action');
    expect(auditActionError('')).toBeUndefined();
    expect(auditActorError('01a23abb-318f-721b-ba8e-cb8090ba038f')).toBeUndefined();
    expect(auditActorError(' ')).toBeUndefined();
    expect(auditActorError('Alex Admin')).toBe('invalid_audit_actor');
  });

  it('names known actions and shows unknown ones as they are', () => {
    expect(auditActionLabel('admin.user.create')).toBe('Created a user');
    expect(auditActionLabel('tenant.consent')).toBe('Approved EduGraph (consent)');
    // Issue 16: never a raw dotted name alone.
    expect(auditActionLabel('something.new')).toBe('Something new');
  });
  it('has a written label for every action the API records (issue 16)', async () => {
    // Node modules by name (the SPA's TypeScript setup has no Node types).
    const [fsName, pathName] = ['node:fs', 'node:path'];
    const { readdirSync, readFileSync, statSync } = await import(/* @vite-ignore */ fsName);
    const { join } = await import(/* @vite-ignore */ pathName);
    const found = new Set<string>();
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir) as string[]) {
        const p: string = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.rs')) {
          for (const m of (readFileSync(p, 'utf8') as string).matchAll(/"((?:admin|auth|link|tenant|class|assignment|submission|profile|export|sync)\.[a-z_.]+)"/g)) {
            found.add(m[1]!);
          }
        }
      }
    };
    for (const d of ['../backend/api/src', '../backend/db/src', '../jobs']) {
      try {
        walk(d);
      } catch {
        /* a folder that does not exist in this checkout */
      }
    }
    expect(found.size).toBeGreaterThan(20);
    expect([...found].filter((a) => !hasAuditLabel(a))).toEqual([]);
  });
});
