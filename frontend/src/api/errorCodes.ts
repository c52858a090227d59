// The error codes of the `{"error":{"code","message"}}` envelope, as types. The server's codes
// come from the OpenAPI schema (`components["schemas"]["ErrorCode"]`, an enum generated from the
// backend's `ErrorCode`), so a code added there stops the build until it has a message
// (errors.ts). The client adds a few of its own for what never reaches the server.
import type { components } from './schema';

/** Every code the server may put in the error envelope (generated from the OpenAPI schema). */
export type ServerErrorCode = components['schemas']['ErrorCode'];

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
