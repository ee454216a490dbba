import { randomUUID } from 'node:crypto';

/** Microsoft identity platform (AAD) OAuth error, serialized the way login.microsoftonline.com does. */
export class AadError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    readonly description: string,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
  }

  toBody(now = new Date()): Record<string, unknown> {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = now
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return {
      error: this.error,
      error_description:
        `AADSTS${this.aadsts}: ${this.description}\r\nTrace ID: ${traceId}\r\n` +
        `Correlation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [this.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${this.aadsts}`,
    };
  }
}

export const aad = {
  missingParameter: (name: string) =>
    new AadError(
      400,
      'invalid_request',
      900144,
      `The request body must contain the following parameter: '${name}'.`,
    ),
  onlyPost: (method: string) =>
    new AadError(
      400,
      'invalid_request',
      900561,
      `The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`,
    ),
  tenantNotFound: (tenant: string) =>
    new AadError(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the ` +
        'correct cloud. Check with your subscription administrator, this may happen if there are no active ' +
        'subscriptions for the tenant.',
    ),
  unsupportedGrantType: (grantType: string) =>
    new AadError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grantType}'.`,
    ),
  applicationNotFound: (clientId: string, tenantName: string) =>
    new AadError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenantName}'. This can happen ` +
        'if the application has not been installed by the administrator of the tenant or consented to by any ' +
        'user in the tenant. You may have sent your authentication request to the wrong tenant.',
    ),
  missingClientSecret: () =>
    new AadError(
      401,
      'invalid_client',
      7000216,
      "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
    ),
  invalidClientSecret: (clientId: string) =>
    new AadError(
      401,
      'invalid_client',
      7000215,
      'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ' +
        `not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  invalidScope: (scope: string) =>
    new AadError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with ` +
        '/.default suffixed to the resource identifier (application ID URI).',
    ),
  resourceNotFound: (resource: string, tenantName: string) =>
    new AadError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenantName}. This can happen ` +
        'if the application has not been installed by the administrator of the tenant or consented to by any ' +
        'user in the tenant. You might have sent your authentication request to the wrong tenant.',
    ),
  consentRequired: (clientId: string, appName: string) =>
    new AadError(
      400,
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}' named ` +
        `'${appName}'. Send an interactive authorization request for this user and resource.`,
    ),
  redirectUriMismatch: (redirectUri: string, clientId: string) =>
    new AadError(
      400,
      'invalid_request',
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured ` +
        `for the application '${clientId}'.`,
    ),
  throttled: () =>
    new AadError(
      429,
      'temporarily_unavailable',
      90055,
      'TenantThrottlingError - There are too many incoming requests.',
    ),
  unavailable: () =>
    new AadError(503, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.'),
  gatewayTimeout: () =>
    new AadError(504, 'temporarily_unavailable', 90033, 'A transient error has occurred.'),
};
