// Pure logic of the tenant admin console (users, groups, licences, bulk jobs, audit log):
// query strings, filters, pasted id lists, licence availability, per-item job results and the
// "changed fields only" update. The pages in src/pages/admin/ only render.
import type { Schemas } from '../api/client';
import { messageFor } from '../api/errors';

export type AdminUser = Schemas['AdminUser'];
export type AdminLicense = Schemas['AdminLicense'];
export type AuditEntry = Schemas['AuditEntry'];
export type JobItem = Schemas['JobItemView'];

/** The server takes at most this many ids in one bulk request. */
export const MAX_BULK = 1000;

// ---- Users list

export type Enabled = '' | 'true' | 'false';

export interface UserFilters {
  search: string;
  department: string;
  jobTitle: string;
  enabled: Enabled;
}

export const NO_USER_FILTERS: UserFilters = { search: '', department: '', jobTitle: '', enabled: '' };

/** The fields the users list asks for (the API's `select`). */
export const USER_LIST_FIELDS = [
  'display_name',
  'user_principal_name',
  'job_title',
  'department',
  'account_enabled',
  'usage_location',
] as const;

/** The query string of `GET /api/admin/users`: the filters, or only the cursor for "see more". */
export function usersQuery(f: UserFilters, cursor?: string | null): string {
  const p = new URLSearchParams({ select: USER_LIST_FIELDS.join(',') });
  if (cursor) {
    p.set('cursor', cursor);
    return p.toString();
  }
  if (f.search.trim()) p.set('search', f.search.trim());
  if (f.department.trim()) p.set('department', f.department.trim());
  if (f.jobTitle.trim()) p.set('job_title', f.jobTitle.trim());
  if (f.enabled) p.set('enabled', f.enabled);
  return p.toString();
}

/** The key of a users list (a new key starts the list over). */
export function usersKey(f: UserFilters): string {
  return JSON.stringify([f.search.trim().toLowerCase(), f.department.trim(), f.jobTitle.trim(), f.enabled]);
}

/** The filters in the address bar (`/admin/users?search=…&department=…&job_title=…&enabled=…`). */
export function userFiltersFrom(search: string): UserFilters {
  const p = new URLSearchParams(search);
  const enabled = p.get('enabled');
  return {
    search: p.get('search') ?? '',
    department: p.get('department') ?? '',
    jobTitle: p.get('job_title') ?? '',
    enabled: enabled === 'true' || enabled === 'false' ? enabled : '',
  };
}

export function userFiltersPath(f: UserFilters): string {
  const p = new URLSearchParams();
  if (f.search.trim()) p.set('search', f.search.trim());
  if (f.department.trim()) p.set('department', f.department.trim());
  if (f.jobTitle.trim()) p.set('job_title', f.jobTitle.trim());
  if (f.enabled) p.set('enabled', f.enabled);
  const q = p.toString();
  return q ? `/admin/users?${q}` : '/admin/users';
}

/** "12 of 40 users shown matching …" */
export function usersShown(shown: number, total: number | null | undefined, f: UserFilters): string {
  const noun = (n: number) => `user${n === 1 ? '' : 's'}`;
  const of = typeof total === 'number' && total >= shown ? `${shown} of ${total} ${noun(total)}` : `${shown} ${noun(shown)}`;
  const bits: string[] = [];
  if (f.search.trim()) bits.push(`named “${f.search.trim()}”`);
  if (f.department.trim()) bits.push(`in ${f.department.trim()}`);
  if (f.jobTitle.trim()) bits.push(`with job title ${f.jobTitle.trim()}`);
  if (f.enabled === 'true') bits.push('who can sign in');
  if (f.enabled === 'false') bits.push('who are disabled');
  return `${of} shown${bits.length ? ` ${bits.join(', ')}` : ''}.`;
}

// ---- Selecting users for a bulk operation (id -> name, in the order chosen)

export type Selection = ReadonlyMap<string, string>;

function nameOfUser(u: Pick<AdminUser, 'id' | 'display_name' | 'user_principal_name'>): string {
  return u.display_name ?? u.user_principal_name ?? u.id;
}

export function toggleSelected(sel: Selection, u: Pick<AdminUser, 'id' | 'display_name' | 'user_principal_name'>, on: boolean): Selection {
  const next = new Map(sel);
  if (on && next.size < MAX_BULK) next.set(u.id, nameOfUser(u));
  if (!on) next.delete(u.id);
  return next;
}

/** Selects (or clears) every user shown, keeping the others chosen earlier; at most MAX_BULK. */
export function selectShown(sel: Selection, shown: AdminUser[], on: boolean): Selection {
  let next: Selection = sel;
  for (const u of shown) next = toggleSelected(next, u, on);
  return next;
}

/** Whether the "select all shown" box is checked, unchecked or mixed. */
export function shownState(sel: Selection, shown: AdminUser[]): 'all' | 'none' | 'some' {
  const n = shown.filter((u) => sel.has(u.id)).length;
  return n === 0 ? 'none' : n === shown.length ? 'all' : 'some';
}

// ---- Editing a user: send only what changed

export const EDITABLE_USER_FIELDS = [
  'display_name',
  'given_name',
  'surname',
  'job_title',
  'department',
  'office_location',
  'mobile_phone',
  'usage_location',
] as const;
export type EditableUserField = (typeof EDITABLE_USER_FIELDS)[number];
export type UserDraft = Record<EditableUserField, string>;

export function draftOf(u: AdminUser): UserDraft {
  const d = {} as UserDraft;
  for (const f of EDITABLE_USER_FIELDS) d[f] = u[f] ?? '';
  return d;
}

/** The PATCH body: the fields whose trimmed value differs (an empty value clears the field). */
export function userChanges(u: AdminUser, draft: UserDraft): Partial<Record<EditableUserField, string>> {
  const out: Partial<Record<EditableUserField, string>> = {};
  for (const f of EDITABLE_USER_FIELDS) {
    let v = draft[f].trim();
    if (f === 'usage_location') v = v.toUpperCase();
    if (v !== (u[f] ?? '')) out[f] = v;
  }
  return out;
}

/** Client-side checks mirroring the server's (the server checks anyway). */
export function userDraftErrors(d: Partial<UserDraft> & { user_principal_name?: string }): Record<string, string> {
  const e: Record<string, string> = {};
  if (d.display_name !== undefined && !d.display_name.trim()) e.display_name = 'required';
  if (d.user_principal_name !== undefined) {
    const upn = d.user_principal_name.trim();
    if (!upn) e.user_principal_name = 'required';
    else if (!/^[A-Za-z0-9'._!#^~-]{1,64}@[A-Za-z0-9.-]+$/.test(upn) || upn.startsWith('.') || upn.includes('.@'))
      e.user_principal_name = 'invalid_upn';
  }
  const loc = d.usage_location?.trim();
  if (loc && !/^[A-Za-z]{2}$/.test(loc)) e.usage_location = 'invalid_usage_location';
  return e;
}

// ---- Licences

/** Friendly names of common education SKUs (the part number otherwise). */
const SKU_NAMES: Record<string, string> = {
  STANDARDWOFFPACK_FACULTY: 'Office 365 A1 for faculty',
  STANDARDWOFFPACK_STUDENT: 'Office 365 A1 for students',
  M365EDU_A3_FACULTY: 'Microsoft 365 A3 for faculty',
  M365EDU_A3_STUDENT: 'Microsoft 365 A3 for students',
  M365EDU_A5_FACULTY: 'Microsoft 365 A5 for faculty',
  M365EDU_A5_STUDENT: 'Microsoft 365 A5 for students',
};

export function licenceName(l: Pick<AdminLicense, 'sku_id' | 'sku_part_number'> | undefined, skuId?: string): string {
  if (!l) return skuId ?? 'Unknown licence';
  const part = l.sku_part_number;
  if (part && SKU_NAMES[part]) return `${SKU_NAMES[part]} (${part})`;
  return part ?? l.sku_id;
}

/** 1,000,000 (grouped digits, the same in every browser). */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Whether a unit is left, and the sentence that says so (or why not). */
export function availability(l: AdminLicense): { canAssign: boolean; text: string } {
  if (l.capability_status && l.capability_status !== 'Enabled' && l.capability_status !== 'Warning') {
    return { canAssign: false, text: `This subscription is ${l.capability_status.toLowerCase()}: it cannot be assigned.` };
  }
  if (l.available_units <= 0) {
    return {
      canAssign: false,
      text: `None left: all ${count(l.enabled_units)} are in use. Remove this licence from someone who no longer needs it, or buy more in the Microsoft 365 admin center.`,
    };
  }
  return { canAssign: true, text: `${count(l.available_units)} of ${count(l.enabled_units)} left.` };
}

/** Share of the units in use, 0..100. */
export function usedPercent(l: AdminLicense): number {
  if (l.enabled_units <= 0) return 100;
  return Math.min(100, Math.round((l.consumed_units * 100) / l.enabled_units));
}

// ---- Bulk operations

/** Ids pasted by the admin (one a line, or separated by commas/spaces): unique, checked. */
export function parseIds(text: string): { ids: string[]; invalid: string[]; error?: string } {
  const seen = new Set<string>();
  const ids: string[] = [];
  const invalid: string[] = [];
  for (const raw of text.split(/[\s,;]+/)) {
    const id = raw.trim();
    if (!id) continue;
    // An object id, or (issue 16) an email / sign-in name the server looks up.
    if (!/^[A-Za-z0-9-]{1,64}$/.test(id) && !/^[^\s@,;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(id)) {
      invalid.push(id);
      continue;
    }
    const k = id.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    ids.push(id);
  }
  const error = invalid.length
    ? 'invalid_person'
    : ids.length === 0
      ? 'required'
      : ids.length > MAX_BULK
        ? 'too_many_ids'
        : undefined;
  return { ids, invalid, error };
}

/** An item's failure, `code: Graph's message` or a bare code, in words. */
export function itemError(error: string | null | undefined): { code: string; text: string } {
  if (!error) return { code: '', text: '' };
  const i = error.indexOf(':');
  const code = (i >= 0 ? error.slice(0, i) : error).trim();
  const detail = i >= 0 ? error.slice(i + 1).trim() : '';
  // Our own codes get our wording; Graph's keep Graph's message.
  if (/^[a-z][a-z_]+$/.test(code)) return { code, text: messageFor(code, detail || undefined, ITEM_WORDING) };
  return { code, text: detail || code };
}

const ITEM_WORDING: Partial<Record<string, string>> = {
  not_found: 'Not found in your school’s directory.',
};

export const ITEM_RESULT: Record<string, string> = {
  done: 'Done',
  already: 'Already done',
  failed: 'Failed',
};

/** Appends a page of item results (the server pages by `seq`; a page never repeats one). */
export function mergeItems(have: JobItem[], page: JobItem[]): JobItem[] {
  const seen = new Set(have.map((i) => i.seq));
  return [...have, ...page.filter((i) => !seen.has(i.seq))].sort((a, b) => a.seq - b.seq);
}

// ---- Audit log

export interface AuditFilters {
  action: string;
  result: '' | 'success' | 'failure' | 'denied';
  actor: string;
}

export const NO_AUDIT_FILTERS: AuditFilters = { action: '', result: '', actor: '' };

export function auditQuery(f: AuditFilters, cursor?: string | null): string {
  const p = new URLSearchParams({ limit: '50' });
  if (f.action.trim()) p.set('action', f.action.trim().toLowerCase());
  if (f.result) p.set('result', f.result);
  if (f.actor.trim()) p.set('actor', f.actor.trim());
  if (cursor) p.set('cursor', cursor);
  return p.toString();
}

export function auditKey(f: AuditFilters): string {
  return JSON.stringify([f.action.trim().toLowerCase(), f.result, f.actor.trim()]);
}

/** Client check of the action filter (the server says `invalid_query` otherwise). */
export function auditActionError(action: string): string | undefined {
  const a = action.trim().toLowerCase();
  return a && !/^[a-z_.]{1,64}$/.test(a) ? 'invalid_audit_action' : undefined;
}

/** Client check of the person filter: a user id (a UUID), as the server expects. */
export function auditActorError(actor: string): string | undefined {
  const a = actor.trim();
  return a && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(a) ? 'invalid_audit_actor' : undefined;
}

const ACTIONS: Record<string, string> = {
  'admin.user.create': 'Created a user',
  'admin.user.update': 'Changed a user',
  'admin.user.enable': 'Enabled a user',
  'admin.user.disable': 'Disabled a user',
  'admin.group.member.add': 'Added a group member',
  'admin.group.member.remove': 'Removed a group member',
  'admin.group.member.bulk_add': 'Bulk: added group members',
  'admin.license.assign': 'Changed a person’s licences',
  'admin.license.bulk_assign': 'Bulk: assigned a licence',
  'admin.local_account.delete': 'Deleted a local account',
  'admin.user_access.enable': 'Enable user access',
  'admin.directory_sync.set': 'Chose the directory sync group',
  'admin.directory_sync.clear': 'Turned directory sync off',
  'admin.profile_fields.update': 'Changed the editable profile fields',
  'admin.token_cache.clear': 'Cleared the token cache',
  'admin.unlink': 'Unlinked an account',
  'export.csv': 'Downloaded a CSV export',
  'auth.local.login': 'Signed in with a password',
  'auth.local.register': 'Registered',
  'auth.logout': 'Signed out',
  'auth.logout_all': 'Signed out everywhere',
  'auth.microsoft.login': 'Signed in with Microsoft',
  'auth.password.change': 'Changed their password',
  'auth.password.reset': 'Reset their password with a mailed link',
  'auth.email.verify': 'Confirmed their email',
  'link.local.create': 'Added an EduGraph password',
  'link.local.existing': 'Linked an existing EduGraph account',
  'link.microsoft': 'Linked a Microsoft account',
  'link.microsoft.remove': 'Unlinked their Microsoft account',
  'profile.update': 'Edited their profile',
  'tenant.consent': 'Approved EduGraph (consent)',
  'tenant.unconsent': 'Withdrew EduGraph’s approval',
  'class.mail': 'Sent mail to a class',
  'class.seating.update': 'Changed a seating chart',
  'class.teacher.add': 'Added a co-teacher',
  'assignment.create': 'Created an assignment',
  'assignment.delete': 'Deleted an assignment',
  'assignment.publish': 'Published an assignment',
  'assignment.resource.add': 'Added a resource to an assignment',
  'submission.submit': 'Handed in work',
  'submission.unsubmit': 'Took back handed-in work',
  'submission.return': 'Returned work to a student',
  'submission.reassign': 'Sent work back for changes',
  'assignment.update': 'Edited an assignment',
  'assignment.resource.upload': 'Attached a file to an assignment',
  'submission.resource.upload': 'Added a file to handed-in work',
  'submission.grade': 'Graded work',
  'submission.excuse': 'Excused a student from an assignment',
  'submission.return_graded': 'Returned all graded work',
  'assignment.rubric.attach': 'Attached a rubric to an assignment',
  'sync.directory_member_restored': 'Directory sync: a member came back',
  'sync.directory_members_left': 'Directory sync: members left the group',
  'sync.profile_deleted': 'Directory sync: a profile was deleted',
  'sync.profile_disabled': 'Directory sync: a profile was disabled',
  'sync.profile_restored': 'Directory sync: a profile was restored',
  'sync.profiles_archived': 'Directory sync: profiles were archived',
  'sync.roster_archived': 'Roster sync: entries were archived',
  'sync.roster_members_left': 'Roster sync: memberships of classes no longer synced were ended',
  'sync.roster_deleted': 'Roster sync: entries were deleted',
  'sync.roster_removed': 'Roster sync: entries were removed',
  'sync.roster_restored': 'Roster sync: entries were restored',
};

/** Whether an action has a written label (the others get a readable fallback). */
export function hasAuditLabel(action: string): boolean {
  return action in ACTIONS;
}

const RESULTS: Record<string, string> = { success: 'Succeeded', failure: 'Failed', denied: 'Refused' };

/** "success" → "Succeeded". */
export function auditResultLabel(result: string): string {
  return RESULTS[result] ?? result;
}

/** Suggestions for the audit log's action filter: the prefixes, then every known action. */
export const AUDIT_ACTION_SUGGESTIONS = [
  'admin.',
  'auth.',
  'link.',
  'tenant.',
  'class.',
  'assignment.',
  'submission.',
  ...Object.keys(ACTIONS),
];

/** A readable name for an audit action (the code itself when we have none). */
export function auditActionLabel(action: string): string {
  if (ACTIONS[action]) return ACTIONS[action];
  // A newer action than this list: still words, never a raw dotted name alone.
  const words = action.replace(/[._]+/g, ' ').trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : action;
}

// ---- Paging the members of a group, the items of a job: counts in words

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
