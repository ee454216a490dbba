import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostApiError, HostClient } from '../../shared/host-client.js';
import { HOST_KEY_ID, HOST_SECRET, startApiHarness, type ApiHarness } from './api-harness.js';

/** The host products' client (shared/host-client.ts) against the real api function over HTTP. */
let h: ApiHarness;
let client: HostClient;

beforeAll(async () => {
  h = await startApiHarness();
  client = new HostClient({ baseUrl: h.url, key: { keyId: HOST_KEY_ID, secret: HOST_SECRET } });
});
afterAll(async () => {
  await h?.close();
});

async function refusal(call: Promise<unknown>): Promise<HostApiError> {
  const err = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HostApiError);
  return err as HostApiError;
}

describe('HostClient', () => {
  it('creates a tenant with a signed request, and repeating the call (signed anew) is accepted too', async () => {
    const first = await client.createTenant({
      tenantId: 'host-client',
      name: 'Host Client School',
      ownerEmail: 'Owner@Host-Client.example',
    });
    expect(first).toEqual({
      tenantId: 'host-client',
      name: 'Host Client School',
      status: 'pending',
      ownerEmail: 'owner@host-client.example',
      created: true,
    });
    const again = await client.createTenant({
      tenantId: 'host-client',
      name: 'Host Client School',
      ownerEmail: 'owner@host-client.example',
    });
    expect(again.created).toBe(false);
  });

  it('manages the team, with paths whose encoding the signature covers as sent', async () => {
    const email = 'it+desk@host-client.example';
    expect(await client.putMember('host-client', email, 'admin')).toMatchObject({
      email,
      role: 'admin',
      result: 'added',
    });
    const { members, you } = await client.listMembers('host-client');
    expect(you).toBeNull();
    expect(members.map((m) => [m.email, m.role])).toEqual([
      ['owner@host-client.example', 'owner'],
      [email, 'admin'],
    ]);
    expect(await client.removeMember('host-client', email)).toEqual({ email, removed: true });
  });

  it("surfaces the API's refusal after an accepted signature: sync of a tenant not yet connected", async () => {
    const err = await refusal(client.syncNow('host-client'));
    expect([err.status, err.code]).toEqual([409, 'failed_precondition']);
  });

  it('is refused with a wrong secret, an unknown key, or a body the schema refuses', async () => {
    const wrongSecret = new HostClient({
      baseUrl: h.url,
      key: { keyId: HOST_KEY_ID, secret: 'not-the-shared-secret-at-all' },
    });
    const unknownKey = new HostClient({ baseUrl: h.url, key: { keyId: 'nobody', secret: HOST_SECRET } });
    for (const c of [wrongSecret, unknownKey]) {
      const err = await refusal(c.listMembers('host-client'));
      expect([err.status, err.code]).toEqual([401, 'unauthenticated']);
    }
    const bad = await refusal(
      client.createTenant({ tenantId: '-bad-', name: 'x', ownerEmail: 'not an email' }),
    );
    expect([bad.status, bad.code]).toEqual([400, 'invalid_argument']);
    expect(bad.details.map((d) => d.path).sort()).toEqual(['ownerEmail', 'tenantId']);
  });

  it('signs with the clock it is given: a timestamp outside the window is refused', async () => {
    const late = new HostClient({
      baseUrl: h.url,
      key: { keyId: HOST_KEY_ID, secret: HOST_SECRET },
      now: () => h.clock.now() - 10 * 60_000,
    });
    const err = await refusal(late.listMembers('host-client'));
    expect(err.status).toBe(401);
    expect(err.message).toMatch(/timestamp/);
  });
});
