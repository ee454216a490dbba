import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/src/api/routes/index.js';
import {
  openApiDocument,
  openApiPath,
  undocumentedRoutes,
} from '../../functions/src/api/openapi/openapi-document.js';
import { startApiHarness, type ApiHarness } from './api-harness.js';

/**
 * The API reference is generated from the router table; these checks keep it complete and valid. A route added
 * without a `doc` (functions/src/api/router.ts RouteDoc) fails the first test, which names it.
 */
type Operation = {
  summary: string;
  security: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>;
  requestBody?: { required: boolean; content: { 'application/json': { schema: Record<string, unknown> } } };
  responses: Record<string, unknown>;
  'x-undocumented'?: boolean;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, Record<string, unknown>> };
};

const doc = openApiDocument(API_ROUTES) as unknown as Document;
const op = (method: string, pattern: string) => doc.paths[openApiPath(pattern)]![method.toLowerCase()]!;

/**
 * The official OpenAPI 3.1 JSON Schema (https://spec.openapis.org/oas/3.1/schema/2022-10-07), vendored: tests do
 * not reach the network. Ajv's JSON Schema 2020-12 build evaluates it (the dialect OpenAPI 3.1 uses).
 * Ajv comes with the Functions Framework and firebase-tools; it is not a direct dependency of this package.
 */
const OAS_31_SCHEMA = JSON.parse(
  // The schema leaves Schema Objects open through `$dynamicRef: "#meta"` (so schema-base.json can plug in the
  // dialect). Ajv resolves that dynamic reference to the document root, whose `unevaluatedProperties: false`
  // would then refuse every keyword of every Schema Object; a plain reference to the same anchor's schema is what
  // the unextended schema means. Schema Objects are checked against JSON Schema 2020-12 separately below.
  readFileSync(new URL('./openapi-3.1.schema.json', import.meta.url), 'utf8').replaceAll(
    '"$dynamicRef": "#meta"',
    '"$ref": "#/$defs/schema"',
  ),
);
const require = createRequire(import.meta.url);
type AjvInstance = {
  addFormat(name: string, format: RegExp): void;
  compile(schema: unknown): ((data: unknown) => boolean) & { errors?: unknown };
  validateSchema(schema: unknown): boolean;
  errors?: unknown;
};
const { Ajv2020 } = require('ajv/dist/2020.js') as { Ajv2020: new (opts: object) => AjvInstance };
const addFormats = require('ajv-formats') as (ajv: AjvInstance) => void;

describe('the OpenAPI document', () => {
  it('documents every route of the router table (API_ROUTES)', () => {
    const missing = undocumentedRoutes(API_ROUTES);
    expect(
      missing,
      `routes without a doc (add \`doc\` to the route, see RouteDoc in functions/src/api/router.ts): ${missing.join(', ')}`,
    ).toEqual([]);
  });

  it('has exactly one operation per route, and no other', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const routes = API_ROUTES.map((r) => `${r.method} ${openApiPath(r.pattern)}`);
    expect(new Set(routes).size).toBe(routes.length);
    expect(operations.sort()).toEqual(routes.sort());
    for (const ops of Object.values(doc.paths)) {
      for (const o of Object.values(ops)) expect(o['x-undocumented']).toBeUndefined();
    }
  });

  it('includes the Entra routes and both OAuth callbacks', () => {
    expect(op('POST', '/api/tenants/:tenantId/entra/authorize').requestBody?.required).toBe(false);
    expect(op('POST', '/api/tenants/:tenantId/entra/disconnect').summary).toMatch(/Entra/);
    expect(op('GET', '/oauth/entra/callback').parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(['state', 'admin_consent', 'tenant', 'error']),
    );
    expect(op('GET', '/oauth/callback').security).toEqual([]);
  });

  it('validates against the official OpenAPI 3.1 schema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    // RFC 9110 media ranges (`application/json`, `*/*`); the schema names the format, Ajv has no checker for it.
    ajv.addFormat('media-range', /^[\w.+*-]+\/[\w.+*-]+$/);
    const validate = ajv.compile(OAS_31_SCHEMA);
    expect(validate(doc), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // And it can fail: another OpenAPI version, an unknown parameter location.
    expect(validate({ ...doc, openapi: '3.0.3' })).toBe(false);
    const elsewhere = structuredClone(doc) as unknown as Document;
    elsewhere.paths['/api/tenants/{tenantId}']!.get!.parameters![0]!.in = 'body';
    expect(validate(elsewhere)).toBe(false);
  });

  it('carries schemas that are valid JSON Schema 2020-12, and rejects a broken one', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const schemas: unknown[] = [];
    for (const ops of Object.values(doc.paths)) {
      for (const o of Object.values(ops)) {
        for (const p of o.parameters ?? []) schemas.push(p.schema);
        if (o.requestBody) schemas.push(o.requestBody.content['application/json'].schema);
      }
    }
    expect(schemas.length).toBeGreaterThan(40);
    for (const s of schemas) expect(ajv.validateSchema(s), JSON.stringify(ajv.errors)).toBe(true);
    expect(ajv.validateSchema({ type: 'no-such-type' })).toBe(false);
  });

  it('states who may call each route: Google ID token, host signature (ws-hmac-v2), or public', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.googleIdToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.hostSignature).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-WS-Signature' });
    expect(String(schemes.hostSignature!.description)).toContain('ws-hmac-v2');
    for (const r of API_ROUTES) {
      const names = op(r.method, r.pattern).security.flatMap((s) => Object.keys(s));
      const expected =
        r.access.kind === 'public'
          ? []
          : r.access.kind === 'host'
            ? ['hostSignature']
            : r.access.kind === 'tenant' && r.access.allowHost
              ? ['googleIdToken', 'hostSignature']
              : ['googleIdToken'];
      expect(names, `${r.method} ${r.pattern}`).toEqual(expected);
    }
  });

  it('documents bodies and queries from the schemas the routes validate with', () => {
    const createTenant = op('POST', '/api/tenants').requestBody!.content['application/json'].schema;
    expect(createTenant).toMatchObject({
      type: 'object',
      required: ['tenantId', 'name', 'ownerEmail'],
      additionalProperties: false,
    });
    const runs = op('GET', '/api/tenants/:tenantId/runs').parameters!;
    expect(runs.find((p) => p.name === 'limit')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    });
    expect(op('PUT', '/api/tenants/:tenantId/mappings/:mappingId').parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'If-Match', in: 'header', required: true })]),
    );
  });
});

describe('GET /api/openapi.json', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('serves the document without authentication', async () => {
    const res = await h.request('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('refuses, as documented, a body outside the documented schema', async () => {
    const schema = op('POST', '/api/tenants').requestBody!.content['application/json'].schema;
    expect(schema.additionalProperties).toBe(false);
    const res = await h.hostRequest('POST', '/api/tenants', {
      tenantId: 'doc-check',
      name: 'Doc check',
      ownerEmail: 'owner@doc-check.example',
      unexpected: true,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_argument');
  });
});
