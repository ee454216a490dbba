import type { z } from 'zod';

/** The API's error vocabulary; the HTTP status follows from the code so handlers cannot mismatch them. */
export const ERROR_STATUS = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  failed_precondition: 409,
  request_timeout: 408,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  precondition_required: 428,
  rate_limited: 429,
  request_header_fields_too_large: 431,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
    /** Extra fields next to code and message, e.g. the tenant status a 409 refers to. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toBody() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...this.extra,
        ...(this.details.length > 0 ? { details: this.details } : {}),
      },
    };
  }
}

/**
 * zod issues as `{path: "fieldMap.0.source", message}`; the console highlights the field from the path. An unknown
 * field is reported at its own path, not at its parent's.
 */
export function issueDetails(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly (string | number)[] = [],
): ErrorDetail[] {
  const join = (parts: readonly PropertyKey[]) => parts.map(String).join('.');
  return issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: join([...prefix, ...i.path, k]), message: 'unknown field' }))
      : [{ path: join([...prefix, ...i.path]), message: i.message }],
  );
}

export function invalid(
  what: string,
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly (string | number)[] = [],
): ApiError {
  return new ApiError('invalid_argument', `invalid ${what}`, issueDetails(issues, prefix));
}

/** Parses with a schema and turns failure into a 400 naming every offending field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalid(what, parsed.error.issues);
  return parsed.data;
}

export const notFound = (what = 'not found') => new ApiError('not_found', what);
