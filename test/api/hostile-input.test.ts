import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isJsonError,
  leaksInternals,
  rawRequest,
  type RawAnswer,
  type RawRequest,
} from '../../scripts/soak/raw-http.js';
import { MAX_BODY_BYTES } from '../../functions/src/api/request-body.js';
import { startApiHarness, type ApiHarness } from './api-harness.js';

/**
 * Hostile input over HTTP, against the api function as the Functions Framework serves it (the framework's own
 * body parser, router and Node's header limits are part of what is tested). Every refusal is the API's JSON
 * error shape, carries no stack trace, and changes nothing in Firestore.
 */
let h: ApiHarness;
let owner: string;

beforeAll(async () => {
  h = await startApiHarness({ users: 5 });
  owner = await h.signIn(h.ws.adminEmail);
  await h.createTenant('acme', h.ws.adminEmail);
});
afterAll(async () => {
  await h?.close();
});

const send = (r: RawRequest) =>
  rawRequest(h.url, { ...r, headers: { authorization: `Bearer ${owner}`, ...r.headers } });

/** Sends, and proves the answer is a clean JSON refusal with `status`/`code` that wrote nothing. */
async function refused(r: RawRequest, status: number, code: string): Promise<RawAnswer> {
  const before = await h.dump();
  const res = await send(r);
  expect(res.status, `${r.method} ${r.path}: ${res.text}`).toBe(status);
  expect(isJsonError(res), res.text).toBe(true);
  expect((res.json as { error: { code: string } }).error.code).toBe(code);
  expect(leaksInternals(res), res.text).toBe(false);
  expect(await h.dump()).toEqual(before);
  return res;
}

describe('bodies', () => {
  it('refuses a body that is not declared JSON (415), instead of reading it as {} and syncing everything', async () => {
    const body = JSON.stringify({ mappingId: 'staff' });
    await refused({ method: 'POST', path: '/api/tenants/acme/sync', body }, 415, 'unsupported_media_type');
    await refused(
      { method: 'POST', path: '/api/tenants/acme/sync', body, headers: { 'content-type': 'text/plain' } },
      415,
      'unsupported_media_type',
    );
    await refused(
      {
        method: 'POST',
        path: '/api/tenants/acme/sync',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      415,
      'unsupported_media_type',
    );
    await refused(
      {
        method: 'PUT',
        path: '/api/tenants/acme/members/ann%40school.example',
        body: Buffer.from('{"role":"viewer"}', 'latin1'),
        headers: { 'content-type': 'application/json; charset=iso-8859-1' },
      },
      415,
      'unsupported_media_type',
    );
    await refused(
      {
        method: 'POST',
        path: '/api/tenants/acme/sync',
        body: Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      },
      415,
      'unsupported_media_type',
    );
    expect(await h.pullSyncMessages()).toEqual([]);
  });

  it('refuses invalid UTF-8 (400) instead of storing U+FFFD, and invalid JSON in the same shape', async () => {
    const bad = Buffer.concat([Buffer.from('{"name":"Sch'), Buffer.from([0xff, 0xfe]), Buffer.from('ool"}')]);
    const json = { 'content-type': 'application/json' };
    await refused(
      { method: 'POST', path: '/api/tenants/acme/mappings', body: bad, headers: json },
      400,
      'invalid_argument',
    );
    // Malformed JSON used to be answered by the framework's parser with an HTML page and a stack trace.
    for (const body of ['{"role":', '"just a string', '{"a":1}}', '\u0000']) {
      await refused(
        { method: 'PUT', path: '/api/tenants/acme/members/ann%40school.example', body, headers: json },
        400,
        'invalid_argument',
      );
    }
  });

  it('refuses oversize bodies with 413, declared or chunked', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) });
    const json = { 'content-type': 'application/json' };
    await refused(
      { method: 'POST', path: '/api/tenants/acme/mappings', body: big, headers: json },
      413,
      'payload_too_large',
    );
    await refused(
      { method: 'POST', path: '/api/tenants/acme/mappings', body: big, headers: json, chunked: true },
      413,
      'payload_too_large',
    );
    // Also on routes that take no body, and without authentication.
    await refused(
      { method: 'GET', path: '/api/me', body: big, headers: { ...json, authorization: '' } },
      413,
      'payload_too_large',
    );
  });
});

describe('paths', () => {
  it('refuses dot segments, encoded slashes and broken escapes (400) instead of resolving them to another route', async () => {
    for (const path of [
      '/api/tenants/acme/runs/%2e%2e',
      '/api/tenants/acme/runs/%2E',
      '/api/tenants/acme/runs/..',
      '/api/tenants/acme/mappings/./',
      '/api/tenants/acme%2Fmappings',
      '/api/tenants/acme/objects/staff/records/a%2Fb',
      '/api/tenants/acme/objects/staff/records/a%5Cb',
      '/api/tenants//acme',
      '/api/tenants/acme/runs/%E0%A4%A',
      '/api/tenants/acme/runs/%ff',
      '/api/tenants/acme/runs/a%00b',
    ]) {
      await refused({ method: 'GET', path }, 400, 'invalid_argument');
    }
    // What `/runs/%2e%2e` used to be answered by: the tenant itself.
    expect((await send({ method: 'GET', path: '/api/tenants/acme/' })).status).toBe(200);
  });

  it('answers unknown paths and methods in the JSON shape', async () => {
    await refused({ method: 'GET', path: '/api/nothing-here' }, 404, 'not_found');
    await refused({ method: 'PATCH', path: '/api/tenants/acme' }, 405, 'method_not_allowed');
    // Answered by the framework itself (an empty 404) unless the guard gets there first.
    await refused({ method: 'GET', path: '/favicon.ico' }, 404, 'not_found');
    await refused({ method: 'GET', path: '/robots.txt' }, 404, 'not_found');
    await refused(
      { method: 'OPTIONS', path: '/api/me', headers: { origin: 'https://evil.example' } },
      403,
      'permission_denied',
    );
  });
});

describe('headers', () => {
  it('refuses oversize headers with 431, ours and Node’s own limit alike', async () => {
    // Above our 8 KB limit, below Node's 16 KB: the handler refuses.
    await refused(
      { method: 'GET', path: '/api/me', headers: { 'x-padding': 'p'.repeat(9 * 1024) } },
      431,
      'request_header_fields_too_large',
    );
    // Above Node's limit: Node refuses before any JavaScript sees the request; the answer is still JSON.
    await refused(
      { method: 'GET', path: '/api/me', headers: { 'x-padding': 'p'.repeat(20 * 1024) } },
      431,
      'request_header_fields_too_large',
    );
  });

  it('refuses a bearer token with a malformed scheme and unsigned host calls in the JSON shape', async () => {
    await refused(
      { method: 'GET', path: '/api/me', headers: { authorization: 'Basic Zm9vOmJhcg==' } },
      401,
      'unauthenticated',
    );
    await refused(
      { method: 'POST', path: '/api/tenants', headers: { authorization: '' } },
      401,
      'unauthenticated',
    );
  });
});
