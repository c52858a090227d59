// The error codes of the `{"error":{"code","message"}}` envelope, as types. The server's codes
// come from the OpenAPI schema (`components["schemas"]["ErrorCode"]`, an enum generated from the
// backend's `ErrorCode`), so a code added there stops the build until it has a message
// (errors.ts). The client adds a few of its own for what never reaches the server.
import type { components } from './schema';

/**
 * Until the schema carries the `ErrorCode` enum, the codes listed in backend/API.md (and sent by
 * the admin routes). Delete this list and the conditional in `ServerErrorCode` once
 * `components["schemas"]["ErrorCode"]` exists.
 */
export const FALLBACK_SERVER_CODES = [
  'invalid_json', 'invalid_query', 'invalid_body', 'invalid_cursor', 'incomplete_upload', 'unauthenticated',
  'invalid_credentials', 'microsoft_signin_required', 'csrf_failed', 'account_disabled', 'school_account_required',
  'role_required', 'microsoft_forbidden', 'field_not_editable', 'not_found', 'not_a_member', 'email_taken',
  'no_local_password', 'job_already_running', 'local_account_exists', 'local_account_already_linked',
  'microsoft_account_required', 'not_linked', 'local_password_required', 'already_a_teacher', 'assignment_not_editable',
  'submission_turned_in', 'uploads_in_progress', 'already_a_member', 'cannot_delete_self', 'cannot_disable_self',
  'upn_taken', 'no_licenses_available', 'license_not_assigned', 'length_required', 'payload_too_large', 'file_too_large',
  'unsupported_media_type', 'invalid_email', 'password_too_short', 'password_too_long', 'password_too_common',
  'invalid_color', 'invalid_id', 'seat_out_of_grid', 'seat_taken', 'not_a_student_of_this_class', 'student_seated_twice',
  'not_a_teacher', 'unknown_profile_field', 'invalid_profile_value', 'invalid_mail', 'invalid_audience', 'no_recipients',
  'invalid_assignment', 'invalid_due_date', 'invalid_link', 'nothing_to_change', 'invalid_file_name', 'empty_file',
  'group_not_found', 'group_name_ambiguous', 'invalid_upn', 'upn_domain_not_verified', 'unknown_license',
  'usage_location_required', 'too_many_requests', 'internal_error', 'microsoft_error', 'service_unavailable',
  'microsoft_unavailable', 'database_unavailable', 'shutting_down', 'database_error', 'service_principal_not_found', 'audit_failed',
] as const;

type Schemas = components['schemas'];

/** Every code the server may put in the error envelope (generated from the OpenAPI schema). */
export type ServerErrorCode = Schemas extends { ErrorCode: infer E } ? E : (typeof FALLBACK_SERVER_CODES)[number];

/** Codes the client makes itself: transport failures, cancelled uploads, its own form checks. */
export type ClientErrorCode =
  | 'network_error'
  | 'bad_gateway'
  | 'unexpected_response'
  | 'upload_cancelled'
  | 'download_interrupted'
  | 'invalid_usage_location'
  | 'too_many_ids'
  | 'invalid_person'
  | 'not_a_school_teacher'
  | 'invalid_audit_action'
  | 'invalid_audit_actor'
  | 'required'
  | 'passwords_differ'
  | 'wrong_current';

export type ErrorCode = ServerErrorCode | ClientErrorCode;
