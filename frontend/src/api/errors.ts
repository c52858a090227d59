// Error codes (the schema's `ErrorCode`, see errorCodes.ts) become messages a person can act on.
// Unknown codes (a newer server) fall back to the server's own message, then to a generic one.
import type { ErrorCode } from './errorCodes';
import { ApiError } from './http';

export type Field = 'email' | 'password' | 'current_password' | 'new_password' | 'favorite_color' | 'display_name';

const EXPLAINED = {
  invalid_json: 'The app sent something the server could not read. Reload the page and try again.',
  invalid_query: 'The app sent something the server could not read. Reload the page and try again.',
  invalid_body: 'The app sent something the server could not read. Reload the page and try again.',
  unauthenticated: 'You are not signed in, or your session has ended. Please sign in.',
  invalid_credentials: 'The email or password is incorrect.',
  csrf_failed: 'Your session changed in another tab or expired. Reload the page and try again.',
  method_not_allowed: 'This address does not accept that kind of request. Reload the page and try again.',
  frontend_not_built: 'The web app is not built on this server. Ask your administrator to build it (see the README).',
  account_disabled: "This account is disabled. Ask your school's administrator.",
  not_found: 'We could not find what you were looking for.',
  email_taken: 'An account with this email already exists. Sign in instead, or use another email.',
  no_local_password: 'This account has no EduGraph password yet (it signs in with Microsoft).',
  payload_too_large: 'What you sent is too large.',
  unsupported_media_type: 'The app sent a request the server did not accept. Reload the page and try again.',
  invalid_email: 'Enter a valid email address, like name@school.edu.',
  password_too_short: 'The password must be at least 8 characters long.',
  password_too_long: 'The password must be at most 256 characters long.',
  password_too_common: 'This password is too common. Choose a less predictable one, such as a short sentence.',
  invalid_color: 'Choose a colour from the palette, or a hex value like #1e90ff.',
  invalid_id: 'This link is not valid.',
  too_many_requests: 'Too many attempts. Wait a moment and try again.',
  internal_error: 'Something went wrong on our side. Please try again in a moment.',
  service_unavailable: 'EduGraph is temporarily unavailable. Please try again shortly.',
  shutting_down: 'This server is restarting. Please try again in a moment.',
  database_unavailable: 'EduGraph cannot reach its database right now. Please try again in a moment.',
  bad_gateway: 'EduGraph is not answering properly right now. Please try again shortly.',
  network_error: 'Could not reach EduGraph. Check your connection and try again.',
  unexpected_response: 'EduGraph answered in an unexpected way. Reload the page and try again.',
  invalid_cursor: 'This list changed or the link expired. Reload the list.',
  reset_link_invalid:
    'This password reset link does not work any more: it was already used, has expired (links work for 15 minutes), or was copied incompletely. Request a new one.',
  verification_link_invalid:
    'This confirmation link does not work any more: it was already used, has expired (links work for 24 hours), or was copied incompletely. Sign in to get a new one.',
  email_unverified:
    'Confirm your email first: we sent a new link to your address. Open it and enter your password there.',
  microsoft_signin_required:
    'This needs Microsoft to confirm it is you (your Microsoft 365 sign-in has expired, or you signed in with your EduGraph password). Choose "Sign in with Microsoft" to continue.',
  school_account_required: "This needs your school's Microsoft 365 account. Sign in with Microsoft, or link your account.",
  role_required: 'Your role does not allow this. Ask a teacher or your school administrator.',
  microsoft_forbidden: 'Microsoft 365 refused this: the app or your account lacks the permission. Tell your administrator.',
  job_already_running: 'This is already running. Wait for it to finish; its progress is shown below.',
  local_account_exists: 'You already have an EduGraph password.',
  local_account_already_linked: 'That EduGraph account is already linked to a Microsoft account. Unlink it there first.',
  microsoft_account_required: 'Sign in with Microsoft first; this links a Microsoft account.',
  not_linked: 'No Microsoft account is linked.',
  local_password_required: 'Create an EduGraph password first, or you could no longer sign in.',
  seat_out_of_grid: 'Every seat must be inside the 6 × 6 grid.',
  seat_taken: 'Two students cannot share a seat.',
  not_a_student_of_this_class: 'Only students of this class can be seated.',
  student_seated_twice: 'A student can have only one seat.',
  microsoft_error: 'Microsoft 365 answered with an error. Try again; if it keeps happening, tell your administrator.',
  microsoft_unavailable: 'Microsoft 365 is not answering right now. Try again in a minute.',
  field_not_editable: 'Your school does not let you change this field here. Ask your administrator.',
  already_a_teacher: 'This person already teaches this class.',
  not_a_teacher: 'Choose a teacher of your school.',
  unknown_profile_field: 'That profile field cannot be opened for editing.',
  invalid_profile_value: 'That value is not valid: check its length, and use only digits and + ( ) - . / in phone numbers.',
  invalid_mail: 'Give the mail a subject (at most 255 characters) and a message (at most 20,000 characters).',
  invalid_audience: 'Choose who gets the mail: the class, its students, its teachers, or selected students.',
  no_recipients: 'Nobody to send to: choose at least one person with a mailbox.',
  invalid_assignment: 'Give the assignment a name of at most 256 characters.',
  invalid_due_date: 'Choose a valid due date and time.',
  invalid_link: 'Give the link a name and an address that starts with https://.',
  upload_cancelled: 'The upload was cancelled; nothing was attached.',
  nothing_to_change: 'Change the name, the instructions or the due date first.',
  submission_state_conflict: 'This work’s status does not allow that now (it may already be turned in, returned or excused). Reload to see where it stands.',
  assignment_not_editable: 'Microsoft 365 refused this change in the assignment’s current state (for example once it is closed). Nothing was changed.',
  invalid_file_name: 'Rename the file: at most 200 characters, without " * : < > ? / \\ | # %.',
  empty_file: 'The file is empty.',
  file_too_large: 'The file is too large. Files can be at most 50 MB.',
  length_required: 'The upload did not say how large the file is. Try again.',
  incomplete_upload: 'The file did not arrive completely. Try again.',
  submission_turned_in: 'Your work is handed in, so files cannot be added. Choose “Take back”, add the files, then hand it in again.',
  uploads_in_progress: 'Files are still being attached to this assignment. Publish it when they are done.',
  // Directory sync
  group_not_found: 'Microsoft 365 has no such group in your school. Check the name or id.',
  group_name_ambiguous: 'Several groups have this name. Choose the group by its id instead.',
  // Tenant admin console
  already_a_member: 'This person is already a member of the group.',
  not_a_member: 'This person is not (or no longer) a member of the group. Reload the members.',
  cannot_unlink_self: 'You cannot unlink your own account here (it would sign you out of the admin console): use your Account page.',
  cannot_disable_self: 'You cannot disable your own account: another administrator has to.',
  cannot_delete_self: 'You cannot delete your own account here.',
  upn_taken: 'Someone in your school already has this sign-in name. Choose another.',
  invalid_upn: "A sign-in name looks like name@your-school-domain; the name may use letters, digits and ' . - _ ! # ^ ~.",
  upn_domain_not_verified: 'The part after @ must be a verified domain of your school.',
  usage_location_required: "Set this person's usage location (a two-letter country code, like US) before assigning a licence.",
  unknown_license: 'This is not a licence of your school. Reload the licences.',
  invalid_points: 'Give points from 0 up to the maximum of the assignment.',
  feedback_too_long: 'The feedback is too long for Microsoft 365. Shorten it.',
  invalid_rubric: 'Check the rubric: give it a name, levels and qualities, and pick a level that belongs to it.',
  assignment_not_graded: 'This assignment is not graded with points. Give it points first.',
  no_licenses_available:
    'None of this licence is left. Remove it from someone who no longer needs it, or buy more in the Microsoft 365 admin center.',
  service_principal_not_found: 'EduGraph is not set up in your Microsoft 365 tenant any more. Approve EduGraph again.',
  audit_failed: 'The action could not be recorded in the audit log, so it was not started. Try again.',
  database_error: 'EduGraph could not save the progress. Try again.',
  download_interrupted: 'The download stopped before the end (Microsoft 365 stopped answering). Try again.',
  license_not_assigned: 'This person does not hold that licence, so there is nothing to remove. Reload their licences.',
  // Client-side checks of the admin forms
  invalid_usage_location: 'Use a two-letter country code, like US or FR.',
  too_many_ids: 'At most 1,000 people at a time. Split the list.',
  not_a_school_teacher:
    'Only teachers of your school who do not teach this class yet can be added. Check the emails below.',
  invalid_person: 'Give people by email or sign-in name (name@school), one a line or separated by commas.',
  invalid_audit_action: 'An action is a dotted name like admin.user.create, or a prefix like admin.',
  invalid_audit_actor: 'A person is given by their user id, like 01a23abb-318f-721b-ba8e-cb8090ba038f.',
  required: 'This field is required.',
  passwords_differ: 'The two new passwords are not the same.',
  wrong_current: 'Your current password is incorrect.',
};

// Compile-time: every code of the schema's ErrorCode enum and of the client has a message
// (a code added to the API stops the build here until it is explained).
type Unexplained = Exclude<ErrorCode, keyof typeof EXPLAINED>;
true satisfies [Unexplained] extends [never] ? true : `no message for error code ${Unexplained}`;

const MESSAGES: Readonly<Record<string, string>> = EXPLAINED;

// Codes the Microsoft sign-in callback puts in `/signin?error=<code>` (backend/API.md,
// "Sign-in with Microsoft"): what happened, and what to do next.
const SIGNIN_MESSAGES: Record<string, string> = {
  tenant_not_onboarded:
    "Your school has not approved EduGraph yet, so its accounts cannot sign in. Only your school's Microsoft 365 administrator can approve it, once, for everyone.",
  consent_required:
    "Your school has not approved EduGraph yet (Microsoft asked for an administrator's approval). Only your school's Microsoft 365 administrator can approve it, once, for everyone.",
  personal_account:
    'That is a personal Microsoft account (outlook.com, hotmail.com, live.com). School data needs your school account: choose "Sign in with Microsoft" and use the account your school gave you, e.g. name@yourschool.edu.',
  microsoft_unlinked:
    'That Microsoft account is no longer linked to your EduGraph account (it was unlinked). Sign in with your EduGraph password below; to link it again, open Account and choose "Link a Microsoft 365 account".',
  access_denied: 'You cancelled the Microsoft sign-in. Sign in again when you are ready.',
  consent_declined: 'The approval was cancelled, so nothing changed. Try again when you are ready.',
  consent_tenant_mismatch: 'The approval came back for a different school than the one you are signed in to. Try again.',
  interaction_required: 'Microsoft needs you to sign in again. Choose "Sign in with Microsoft".',
  state_missing: 'That sign-in link is incomplete. Start again with "Sign in with Microsoft".',
  state_mismatch:
    'That sign-in was started in another browser or tab. Start again here with "Sign in with Microsoft".',
  state_invalid: 'That sign-in link expired or was already used. Start again with "Sign in with Microsoft".',
  code_invalid: "Microsoft's one-time code expired or was already used. Start again.",
  id_token_missing: "Microsoft's answer could not be verified. Start again; if it keeps happening, tell your administrator.",
  microsoft_account_already_linked:
    'That Microsoft account is already linked to another EduGraph account. Sign in with it, or unlink it there first.',
  already_linked: 'Your account is already linked to a different Microsoft account. Unlink it first.',
  signin_required_to_link: 'Sign in to your EduGraph account first, then link your Microsoft account.',
  microsoft_unavailable: 'Microsoft is not answering right now. Try again in a minute.',
  microsoft_error: 'Microsoft answered with an error. Try again; if it keeps happening, tell your administrator.',
  temporarily_unavailable: 'EduGraph is temporarily unavailable. Try again in a minute.',
};

/** The message for a `/signin?error=<code>` redirect; `id_token_*` codes share one. */
export function signInErrorMessage(code: string): string {
  if (SIGNIN_MESSAGES[code]) return SIGNIN_MESSAGES[code];
  if (code.startsWith('id_token_')) return SIGNIN_MESSAGES.id_token_missing!;
  return SIGNIN_MESSAGES.microsoft_error!;
}

/** Whether a sign-in redirect code has a message of its own. */
export function hasSignInMessage(code: string): boolean {
  return Object.hasOwn(SIGNIN_MESSAGES, code) || code.startsWith('id_token_');
}

/** Whether a code has a message of ours (tests check every code of the schema has one). */
export function hasMessage(code: string): boolean {
  return Object.hasOwn(MESSAGES, code);
}

/** Per-form wording where a code means something more specific. */
export type Overrides = Partial<Record<string, string>>;

const GENERIC = 'Something went wrong. Please try again.';

/** Codes whose server message carries the specifics (which licence and how many are in use,
 * which domains are verified): that message is shown rather than our general one. */
const SPECIFIC: ReadonlySet<string> = new Set(['no_licenses_available', 'upn_domain_not_verified', 'invalid_id']);

/** A human message for an error code. */
export function messageFor(code: string, serverMessage?: string, overrides: Overrides = {}): string {
  if (!overrides[code] && SPECIFIC.has(code) && serverMessage?.trim()) return serverMessage.trim();
  return overrides[code] ?? MESSAGES[code] ?? (serverMessage?.trim() || GENERIC);
}

/** A human message for anything thrown by the API client. */
export function humanError(err: unknown, overrides: Overrides = {}): string {
  if (err instanceof ApiError) {
    if (err.code === 'too_many_requests' && err.retryAfter && !overrides[err.code]) {
      const s = err.retryAfter;
      const wait = s < 90 ? `${s} second${s === 1 ? '' : 's'}` : `${Math.ceil(s / 60)} minutes`;
      return `Too many attempts. Wait ${wait} and try again.`;
    }
    return messageFor(err.code, err.serverMessage, overrides);
  }
  return GENERIC;
}

/** Whether an error means "you may not do or see this" (show a "not allowed" page, not a broken one). */
export function isNotAllowed(err: unknown): boolean {
  return err instanceof ApiError && (err.code === 'role_required' || err.code === 'school_account_required');
}

/** Microsoft's request id and code for a Graph failure, for a report to the administrator. */
export function graphDetail(err: unknown): string | undefined {
  if (!(err instanceof ApiError) || !err.graph) return undefined;
  const { status, code, request_id: requestId } = err.graph;
  const bits = [code, status ? `HTTP ${status}` : '', requestId ? `request id ${requestId}` : ''].filter(Boolean);
  return bits.length ? `Microsoft Graph: ${bits.join(', ')}` : undefined;
}

/** What Microsoft Graph said, for the admin to report to Microsoft (admin endpoints only carry
 * Graph's own message). Undefined when the failure did not come from Graph. */
export function graphDiagnostics(
  err: unknown,
): { status?: number; code?: string; message?: string; requestId?: string } | undefined {
  if (!(err instanceof ApiError) || !err.graph) return undefined;
  const { status, code, message, request_id: requestId } = err.graph;
  const d = {
    status: status ?? undefined,
    code: code ?? undefined,
    message: message ?? undefined,
    requestId: requestId ?? undefined,
  };
  return d.status || d.code || d.message || d.requestId ? d : undefined;
}

/** The form field an error code is about, so it can be shown next to that field. */
export function fieldFor(code: string, passwordField: Field = 'password'): Field | undefined {
  switch (code) {
    case 'invalid_email':
    case 'email_taken':
      return 'email';
    case 'password_too_short':
    case 'password_too_long':
    case 'password_too_common':
      return passwordField;
    case 'invalid_color':
      return 'favorite_color';
    default:
      return undefined;
  }
}

/** Where to send the browser so that Microsoft confirms the person (issue 17.1): the server's
 * `continue_url` (silent when Microsoft still has a session) or a Microsoft sign-in, coming
 * back to `path`. */
export function microsoftContinueHref(error: unknown, path: string): string {
  const base =
    error && typeof error === 'object' && 'continueUrl' in error && typeof error.continueUrl === 'string'
      ? error.continueUrl
      : '/auth/microsoft/login';
  return `${base}${base.includes('?') ? '&' : '?'}return_to=${encodeURIComponent(path)}`;
}

const FOLLOWED_KEY = 'edugraph.microsoft-continue-at';

/** Follows `microsoft_signin_required`'s continue URL at once, at most once a minute (so a
 * confirmation that cannot succeed shows the button instead of looping). Returns whether it did. */
export function followMicrosoftContinue(error: unknown, path: string, now = Date.now()): boolean {
  if (!(error && typeof error === 'object' && 'continueUrl' in error && typeof error.continueUrl === 'string')) {
    return false;
  }
  try {
    const last = Number(window.sessionStorage.getItem(FOLLOWED_KEY) ?? '0');
    if (now - last < 60_000) return false;
    window.sessionStorage.setItem(FOLLOWED_KEY, String(now));
  } catch {
    return false;
  }
  window.location.assign(microsoftContinueHref(error, path));
  return true;
}
