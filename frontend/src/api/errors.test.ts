import { describe, expect, it } from 'vitest';
import {
  fieldFor,
  graphDetail,
  graphDiagnostics,
  hasMessage,
  hasSignInMessage,
  humanError,
  isNotAllowed,
  messageFor,
  signInErrorMessage,
} from './errors';
import { ApiError } from './http';
// The API conventions document, as text (kept in sync with the codes the server sends).
import doc from '../../../backend/API.md?raw';
// The OpenAPI document `schema.ts` is generated from.
import openapi from '../../openapi.json?raw';

type EnumSchema = { enum?: string[]; oneOf?: EnumSchema[] };
/** The values of a string enum of the schema (plain, or one documented value per `oneOf` arm). */
function enumValues(s: EnumSchema | undefined): string[] | undefined {
  if (!s) return undefined;
  return s.enum ?? s.oneOf?.flatMap((arm) => enumValues(arm) ?? []);
}
const schemas = (JSON.parse(openapi) as { components: { schemas: Record<string, EnumSchema> } }).components.schemas;

// The admin console's sources (routes, their shared service, the jobs they start), as text:
// every code they answer with needs a message.
const adminRoutes = import.meta.glob(
  [
    '../../../backend/api/src/routes/admin_*.rs',
    '../../../backend/api/src/services/admin.rs',
    '../../../backend/api/src/jobs/*.rs',
  ],
  {
    query: '?raw',
    import: 'default',
    eager: true,
  },
) as Record<string, string>;

describe('error messages', () => {
  it('has a human message for every error code the admin console routes send (and their jobs stop with)', () => {
    const files = Object.keys(adminRoutes);
    expect(files.length).toBeGreaterThan(8);
    const codes = new Set<string>();
    const patterns = [
      /(?:conflict|not_found|bad_request|forbidden)\(\s*"([a-z][a-z_]+)"/g,
      /code: "([a-z][a-z_]+)"/g,
      /Stop\("([a-z][a-z_]+)"/g,
    ];
    for (const src of Object.values(adminRoutes)) {
      for (const re of patterns) for (const m of src.matchAll(re)) codes.add(m[1]!);
      // Codes named by the backend's `ErrorCode` enum (`ErrorCode::JobAlreadyRunning`).
      for (const m of src.matchAll(/ErrorCode::([A-Z][A-Za-z0-9]+)/g)) {
        codes.add(m[1]!.replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase());
      }
    }
    expect(codes.size).toBeGreaterThan(20);
    expect(codes).toContain('no_licenses_available');
    expect(codes).toContain('job_already_running');
    expect([...codes].filter((c) => !hasMessage(c))).toEqual([]);
  });

  it('has a human message for every code of the OpenAPI schema’s ErrorCode enum', () => {
    const codes: readonly string[] = enumValues(schemas.ErrorCode) ?? [];
    expect(codes.length).toBeGreaterThan(40);
    expect(codes.filter((c) => !hasMessage(c))).toEqual([]);
  });

  it('has a human message for every error code listed in backend/API.md', () => {
    const table = doc.slice(doc.indexOf('| Status | Codes |'), doc.indexOf('## Sessions'));
    const codes = [...table.matchAll(/`([a-z][a-z_]+)`/g)].map((m) => m[1]!);
    expect(codes.length).toBeGreaterThan(15);
    expect(codes.filter((c) => !hasMessage(c))).toEqual([]);
  });

  it('explains every Microsoft sign-in error code listed in backend/API.md', () => {
    const start = doc.indexOf('Failures redirect to `/signin?error=<code>`');
    const table = doc.slice(start, doc.indexOf('JSON endpoints:', start));
    const codes = [...table.matchAll(/`([a-z][a-z_]+)`/g)].map((m) => m[1]!).filter((c) => c !== 'signin');
    expect(codes.length).toBeGreaterThan(12);
    expect(codes.filter((c) => !hasSignInMessage(c))).toEqual([]);
    expect(signInErrorMessage('id_token_wrong_issuer')).toMatch(/could not be verified/);
    expect(signInErrorMessage('something_new')).toMatch(/Microsoft answered with an error/);
  });

  it('prefers per-form wording, then ours, then the server message, then a generic one', () => {
    expect(messageFor('invalid_credentials', 'x', { invalid_credentials: 'Wrong current password.' })).toBe(
      'Wrong current password.',
    );
    expect(messageFor('invalid_credentials', 'server text')).toBe('The email or password is incorrect.');
    expect(messageFor('brand_new_code', 'The server explains it.')).toBe('The server explains it.');
    expect(messageFor('brand_new_code', '  ')).toBe('Something went wrong. Please try again.');
  });

  it('says how long to wait after too many attempts', () => {
    expect(humanError(new ApiError(429, 'too_many_requests', 'x', 30))).toBe(
      'Too many attempts. Wait 30 seconds and try again.',
    );
    expect(humanError(new ApiError(429, 'too_many_requests', 'x', 1))).toContain('Wait 1 second ');
    expect(humanError(new ApiError(429, 'too_many_requests', 'x', 600))).toContain('Wait 10 minutes');
    expect(humanError(new ApiError(429, 'too_many_requests'))).toBe('Too many attempts. Wait a moment and try again.');
  });

  it('never shows internals for unexpected throws or server failures', () => {
    expect(humanError(new TypeError('x is undefined'))).toBe('Something went wrong. Please try again.');
    expect(humanError(new ApiError(500, 'internal_error', 'Something went wrong on our side.'))).toMatch(/our side/);
    expect(humanError(new ApiError(0, 'network_error'))).toMatch(/Could not reach EduGraph/);
  });

  it('puts validation errors next to their field', () => {
    expect(fieldFor('email_taken')).toBe('email');
    expect(fieldFor('password_too_common')).toBe('password');
    expect(fieldFor('password_too_short', 'new_password')).toBe('new_password');
    expect(fieldFor('invalid_color')).toBe('favorite_color');
    expect(fieldFor('invalid_credentials')).toBeUndefined();
  });

  it('tells "not allowed" apart from other failures', () => {
    expect(isNotAllowed(new ApiError(403, 'role_required'))).toBe(true);
    expect(isNotAllowed(new ApiError(403, 'school_account_required'))).toBe(true);
    expect(isNotAllowed(new ApiError(403, 'csrf_failed'))).toBe(false);
    expect(isNotAllowed(new Error('x'))).toBe(false);
  });

  it('keeps Microsoft Graph’s code and request id for a report', () => {
    const err = new ApiError(502, 'microsoft_error', 'Graph failed', undefined, {
      status: 503,
      code: 'serviceNotAvailable',
      request_id: 'req-1',
    });
    expect(graphDetail(err)).toBe('Microsoft Graph: serviceNotAvailable, HTTP 503, request id req-1');
    expect(graphDetail(new ApiError(404, 'not_found'))).toBeUndefined();
    expect(humanError(err)).toMatch(/Microsoft 365 answered with an error/);
  });

  it('explains the assignment codes', () => {
    expect(messageFor('invalid_link')).toMatch(/https:\/\//);
    expect(messageFor('invalid_due_date')).toMatch(/due date/);
    expect(messageFor('invalid_assignment')).toMatch(/256/);
  });

  it('shows an admin what Microsoft Graph said: code, status, its message and the request id', () => {
    const err = new ApiError(503, 'microsoft_unavailable', 'x', undefined, {
      status: 500,
      code: 'generalException',
      message: 'The operation has timed out.',
      request_id: 'req-2',
    });
    expect(graphDiagnostics(err)).toEqual({
      status: 500,
      code: 'generalException',
      message: 'The operation has timed out.',
      requestId: 'req-2',
    });
    expect(graphDiagnostics(new ApiError(503, 'microsoft_unavailable', 'x', undefined, {}))).toBeUndefined();
    expect(graphDiagnostics(new ApiError(409, 'already_a_member'))).toBeUndefined();
    expect(graphDiagnostics(new Error('x'))).toBeUndefined();
  });

  it('explains the admin console codes, with the server’s specifics where it names them', () => {
    const none = 'No licences are left for STANDARDWOFFPACK_FACULTY (500 of 500 in use). Remove a licence…';
    expect(humanError(new ApiError(409, 'no_licenses_available', none))).toBe(none);
    expect(messageFor('no_licenses_available')).toMatch(/^None of this licence is left/);
    const domains = 'example.com is not a verified domain of your school. Use one of: contoso.edu.';
    expect(humanError(new ApiError(422, 'upn_domain_not_verified', domains))).toBe(domains);
    expect(messageFor('upn_domain_not_verified', domains, { upn_domain_not_verified: 'Ours.' })).toBe('Ours.');
    expect(humanError(new ApiError(409, 'already_a_member', 'server words'))).toBe(
      'This person is already a member of the group.',
    );
    for (const c of ['not_a_member', 'cannot_disable_self', 'cannot_delete_self', 'upn_taken', 'invalid_upn', 'usage_location_required', 'unknown_license', 'service_principal_not_found', 'too_many_ids', 'invalid_usage_location', 'invalid_audit_action', 'download_interrupted']) {
      expect(hasMessage(c), c).toBe(true);
    }
  });
});
