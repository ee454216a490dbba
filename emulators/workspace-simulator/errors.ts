/**
 * Google's JSON error envelope ("v1 format" with the legacy `errors[]` array still populated), because clients
 * such as GAM and our own retry policy read `error.errors[0].reason`.
 */
export interface GoogleErrorItem {
  message: string;
  domain: string;
  reason: string;
  location?: string;
  locationType?: string;
}

export interface GoogleErrorBody {
  error: {
    code: number;
    message: string;
    errors: GoogleErrorItem[];
    status: string;
    details?: unknown[];
  };
}

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export class ApiError extends Error {
  readonly status: string;
  readonly details: unknown[] | undefined;
  readonly headers: Record<string, string>;
  constructor(
    readonly code: number,
    message: string,
    readonly errors: GoogleErrorItem[],
    options: { status?: string; details?: unknown[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = options.status ?? STATUS_BY_CODE[code] ?? 'UNKNOWN';
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toBody(): GoogleErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: this.errors,
        status: this.status,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

const simple = (
  code: number,
  message: string,
  reason: string,
  domain = 'global',
  extra: Partial<GoogleErrorItem> = {},
) => new ApiError(code, message, [{ message, domain, reason, ...extra }]);

export const badRequest = (message = 'Bad Request') => simple(400, message, 'badRequest');

export const invalidInput = (detail?: string) =>
  simple(400, detail ? `Invalid Input: ${detail}` : 'Invalid Input', 'invalid');

export const invalidParameterValue = (parameter: string, message: string) =>
  simple(400, message, 'invalid', 'global', { location: parameter, locationType: 'parameter' });

export const invalidFieldSelection = (detail: string) =>
  simple(400, `Invalid field selection ${detail}`, 'invalidParameter', 'global', {
    location: 'fields',
    locationType: 'parameter',
  });

export const unauthenticated = () =>
  new ApiError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid ' +
      'authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    [
      {
        message: 'Invalid Credentials',
        domain: 'global',
        reason: 'authError',
        location: 'Authorization',
        locationType: 'header',
      },
    ],
    { headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' } },
  );

export const insufficientPermissions = (rpcMethod: string) =>
  new ApiError(
    403,
    'Request had insufficient authentication scopes.',
    [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }],
    {
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
          domain: 'googleapis.com',
          metadata: { service: 'admin.googleapis.com', method: rpcMethod },
        },
      ],
      headers: {
        'www-authenticate':
          'Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="https://www.googleapis.com/auth/admin.directory"',
      },
    },
  );

export const forbidden = () => simple(403, 'Not Authorized to access this resource/api', 'forbidden');

export const notFound = (message: string) => simple(404, message, 'notFound');

export const methodNotAllowed = (method: string) =>
  simple(
    405,
    `Method ${method} is not supported by the workspace simulator for this resource`,
    'methodNotAllowed',
  );

export const userRateLimitExceeded = () =>
  simple(
    403,
    "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service " +
      "'admin.googleapis.com' for consumer 'project_number:1043215872'.",
    'userRateLimitExceeded',
    'usageLimits',
  );

export const quotaExceeded = () =>
  simple(403, 'Quota exceeded for the current request', 'quotaExceeded', 'usageLimits');

export const rateLimitExceeded = () => simple(429, 'Rate Limit Exceeded', 'rateLimitExceeded', 'usageLimits');

export const backendError = (code: 500 | 503 = 503) =>
  simple(code, code === 503 ? 'Service unavailable. Please try again' : 'Backend Error', 'backendError');

export const internalError = () => simple(500, 'Internal error encountered.', 'internalError');

/**
 * ESF's answer to a JSON value that does not fit the request proto (an unknown enum name and the like),
 * e.g. `Invalid value at 'change_chrome_os_device_status_action' (TYPE_ENUM), "FOO"`.
 */
export const invalidJsonValue = (field: string, type: string, value: unknown) =>
  simple(400, `Invalid value at '${field}' (${type}), ${JSON.stringify(value)}`, 'invalid');

/**
 * An action the device's current state does not allow. Google documents which transitions are valid but not
 * the error body; 412 `conditionNotMet` is the simulator's choice for the older per-device action methods.
 */
export const illegalTransition = (detail: string) =>
  simple(412, `Illegal device state transition: ${detail}`, 'conditionNotMet');
