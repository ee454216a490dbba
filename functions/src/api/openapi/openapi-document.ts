import { z, type ZodType } from 'zod';
import { ERROR_STATUS } from '../api-error.js';
import { HOST_SIGNATURE_SCHEME, HOST_SIGNATURE_WINDOW_SECONDS } from '../host-hmac.js';
import { PARAM_SCHEMAS, type ParamName } from '../path-params.js';
import type { Access, Route, RouteDoc } from '../router.js';

/**
 * The API's OpenAPI 3.1 document, built from the router table: paths and methods from the routes, path
 * parameters from path-params.ts, security from each route's `access`, and bodies, queries and answers from the
 * zod schemas in its `doc` (the ones the route validates with), converted by zod 4's own `z.toJSONSchema`
 * (JSON Schema 2020-12, the dialect OpenAPI 3.1 uses). Hand-writing the document would let it drift.
 */
export const OPENAPI_VERSION = '3.1.1';

type JsonSchema = Record<string, unknown>;

/** The request side of a schema (what a caller sends: defaults optional, coerced query strings as numbers). */
function inputSchema(schema: ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

function outputSchema(schema: ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: 'output',
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** The error body every refusal carries (api-error.ts `toBody`). */
const errorBody = z.object({
  error: z
    .object({
      code: z.enum(
        Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...Array<keyof typeof ERROR_STATUS>],
      ),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    })
    .loose(),
});

const HOST_SIGNATURE_DESCRIPTION = [
  `The host product's shared-secret signature, scheme \`${HOST_SIGNATURE_SCHEME}\`. Every signed request carries four`,
  'headers: `X-WS-Key-Id` (the key id), `X-WS-Timestamp` (unix seconds, refused more than',
  `${HOST_SIGNATURE_WINDOW_SECONDS} s from the server clock), \`X-WS-Nonce\` (16-128 of [A-Za-z0-9_-], fresh per`,
  'request) and `X-WS-Signature: v2=<lower-case hex HMAC-SHA256(secret, string-to-sign)>`, where string-to-sign',
  `is the six lines "${HOST_SIGNATURE_SCHEME}", timestamp, nonce, METHOD, path-and-query exactly as sent, and the hex`,
  'SHA-256 of the exact body bytes, joined by "\\n". A signature is accepted once; a retry must be signed anew',
  '(send `Idempotency-Key` to make a retried write safe). Reference implementation: `hostSignatureHeaders()`',
  'in functions/src/api/host-hmac.ts; client: shared/host-client.ts.',
].join(' ');

const SECURITY_SCHEMES = {
  googleIdToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An admin: a Google ID token from GET /api/auth/login (issuer Google, audience the service OAuth client, verified email).',
  },
  hostSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-WS-Signature',
    description: HOST_SIGNATURE_DESCRIPTION,
    'x-ws-signature-headers': ['X-WS-Key-Id', 'X-WS-Timestamp', 'X-WS-Nonce', 'X-WS-Signature'],
    'x-ws-signature-scheme': HOST_SIGNATURE_SCHEME,
  },
} as const;

function securityOf(access: Access): Array<Record<string, string[]>> {
  switch (access.kind) {
    case 'public':
      return [];
    case 'signedIn':
      return [{ googleIdToken: [] }];
    case 'host':
      return [{ hostSignature: [] }];
    case 'tenant':
      return access.allowHost ? [{ googleIdToken: [] }, { hostSignature: [] }] : [{ googleIdToken: [] }];
  }
}

function accessNote(access: Access): string {
  switch (access.kind) {
    case 'public':
      return 'Public.';
    case 'signedIn':
      return 'Any signed-in admin.';
    case 'host':
      return 'Host product only (signed).';
    case 'tenant': {
      const who = { read: 'any member', write: 'owners and admins', owner: 'owners' }[access.need];
      return `Members of the tenant: ${who}${access.allowHost ? ', or the host product (signed)' : ''}.`;
    }
  }
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

function errorResponses(route: Route<unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    '400': errorResponse('Invalid path, query or body (`invalid_argument`, with `details`).'),
  };
  if (route.access.kind !== 'public') out['401'] = errorResponse('Not authenticated (`unauthenticated`).');
  if (route.access.kind === 'tenant') {
    out['403'] = errorResponse('A member whose role does not allow this (`permission_denied`).');
    out['404'] = errorResponse('No such tenant, or not a member of it (`not_found`).');
  }
  out.default = errorResponse(
    'Any other refusal, in the same shape (see the error codes in the description).',
  );
  return out;
}

/** `/api/tenants/:tenantId/runs` -> `/api/tenants/{tenantId}/runs` */
export const openApiPath = (pattern: string) => pattern.replace(/:([A-Za-z]+)/g, '{$1}');

const pathParams = (pattern: string) => [...pattern.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]! as ParamName);

function queryParameters(query: ZodType): unknown[] {
  const schema = inputSchema(query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    schema: s,
  }));
}

function operation(route: Route<unknown>, doc: RouteDoc | undefined): Record<string, unknown> {
  const parameters: unknown[] = pathParams(route.pattern).map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: PARAM_SCHEMAS[name] ? inputSchema(PARAM_SCHEMAS[name]) : { type: 'string' },
  }));
  if (doc?.query) parameters.push(...queryParameters(doc.query));
  for (const h of doc?.headers ?? []) {
    parameters.push({
      name: h.name,
      in: 'header',
      required: h.required ?? false,
      description: h.description,
      schema: h.schema ? inputSchema(h.schema) : { type: 'string' },
    });
  }
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(doc?.responses ?? {})) {
    responses[status] = {
      description: r.description,
      ...(r.schema
        ? { content: { [r.contentType ?? 'application/json']: { schema: outputSchema(r.schema) } } }
        : {}),
    };
  }
  if (!doc) responses['200'] = { description: 'Undocumented.' };
  Object.assign(responses, errorResponses(route));
  return {
    operationId: `${route.method.toLowerCase()}${route.pattern
      .split('/')
      .filter(Boolean)
      .map((p) =>
        p.startsWith(':') ? `By${p[1]!.toUpperCase()}${p.slice(2)}` : p[0]!.toUpperCase() + p.slice(1),
      )
      .join('')
      .replace(/[^A-Za-z0-9]/g, '')}`,
    summary: doc?.summary ?? `${route.method} ${route.pattern}`,
    description: [doc?.description, accessNote(route.access)].filter(Boolean).join('\n\n'),
    tags: [tagOf(route.pattern)],
    security: securityOf(route.access),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc?.body
      ? {
          requestBody: {
            required: !doc.bodyOptional,
            content: { 'application/json': { schema: inputSchema(doc.body) } },
          },
        }
      : {}),
    responses,
    ...(doc ? {} : { 'x-undocumented': true }),
  };
}

/** Grouped by what the path is about: `/api/tenants/:t/mappings/...` -> mappings. */
export function tagOf(pattern: string): string {
  const parts = pattern.split('/').filter((p) => p && !p.startsWith(':'));
  if (parts[0] === 'oauth') return parts[1] === 'entra' ? 'entra' : 'connection';
  if (parts[1] === 'tenants') {
    if (parts[2] === 'objects') return 'records';
    return parts[2] ?? 'tenants';
  }
  if (parts[1] === 'me') return 'auth';
  return parts[1] ?? 'api';
}

/** Routes without a `doc`, as "METHOD pattern": what the coverage test names. */
export function undocumentedRoutes(routes: ReadonlyArray<Route<unknown>>): string[] {
  return routes.filter((r) => !r.doc).map((r) => `${r.method} ${r.pattern}`);
}

const ERROR_CODES_TEXT = Object.entries(ERROR_STATUS)
  .map(([code, status]) => `\`${code}\` ${status}`)
  .join(', ');

export function openApiDocument(
  routes: ReadonlyArray<Route<unknown>>,
  opts: { version?: string } = {},
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.pattern);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route, route.doc);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'workspace-sync API',
      version: opts.version ?? '0.1.0',
      description: [
        'The API of the admin console, the OAuth callbacks and the host product. Admins authenticate with a',
        'Google ID token; the host product signs each request (security scheme `hostSignature`). Every refusal',
        'is `{"error":{"code","message","details?"}}`; codes and statuses:',
        `${ERROR_CODES_TEXT}.`,
        'Host writes honour `Idempotency-Key` (8-200 of A-Z a-z 0-9 . _ : -): a retry gets the first answer',
        'back with `Idempotent-Replayed: true`.',
      ].join(' '),
    },
    servers: [
      {
        url: '/',
        description: 'The console origin: Hosting sends /api/** and /oauth/** to the api function.',
      },
    ],
    paths,
    components: {
      schemas: { Error: outputSchema(errorBody) },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
