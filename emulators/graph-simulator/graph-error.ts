/** Microsoft Graph's JSON error envelope: `{ error: { code, message, innerError } }`. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(requestId: string, clientRequestId: string, now = new Date()): Record<string, unknown> {
    return {
      error: {
        code: this.code,
        message: this.message,
        innerError: {
          date: now.toISOString().replace(/\.\d+Z$/, ''),
          'request-id': requestId,
          'client-request-id': clientRequestId,
        },
      },
    };
  }
}

export const graphErrors = {
  emptyToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', {
      'www-authenticate':
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"',
    }),
  malformedToken: () =>
    new GraphError(
      401,
      'InvalidAuthenticationToken',
      'IDX14100: JWT is not well formed, there are no dots (.).',
    ),
  invalidToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.'),
  expiredToken: () =>
    new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'),
  consentRevoked: () =>
    new GraphError(
      401,
      'InvalidAuthenticationToken',
      'Access token validation failure. The application is no longer authorized in this tenant (consent revoked).',
    ),
  insufficientPrivileges: () =>
    new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'),
  segmentNotFound: (segment: string) =>
    new GraphError(400, 'BadRequest', `Resource not found for the segment '${segment}'.`),
  userNotFound: (id: string) =>
    new GraphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    ),
  methodNotAllowed: () =>
    new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.'),
  unknownProperty: (name: string) =>
    new GraphError(
      400,
      'Request_BadRequest',
      `Could not find a property named '${name}' on type 'microsoft.graph.user'.`,
    ),
  invalidPageSize: (value: string) =>
    new GraphError(
      400,
      'Request_UnsupportedQuery',
      `Invalid page size specified: '${value}'. Must be between 1 and 999 inclusive.`,
    ),
  unsupportedFilter: (detail: string) => new GraphError(400, 'Request_UnsupportedQuery', detail),
  invalidFilter: (detail: string) => new GraphError(400, 'BadRequest', `Invalid filter clause: ${detail}`),
  invalidSkipToken: () => new GraphError(400, 'Request_BadRequest', 'Invalid $skiptoken value.'),
  syncStateNotFound: () =>
    new GraphError(
      410,
      'syncStateNotFound',
      'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
    ),
  tooManyRequests: (retryAfterSeconds: number) =>
    new GraphError(
      429,
      'TooManyRequests',
      'Too many requests. The application or tenant exceeded its request quota; retry after the Retry-After delay.',
      { 'retry-after': String(retryAfterSeconds) },
    ),
  serviceUnavailable: (retryAfterSeconds?: number) =>
    new GraphError(
      503,
      'serviceNotAvailable',
      'The service is temporarily unavailable for maintenance or is overloaded. You may repeat the request after a delay.',
      retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
    ),
  gatewayTimeout: () =>
    new GraphError(
      504,
      'UnknownError',
      'The gateway did not receive a timely response from the upstream service.',
    ),
};
