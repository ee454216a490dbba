import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../shared/firestore-paths.js';
import { emulatorEnv, uniqueProjectId } from '../support/emulator-clients.js';

const RULES = readFileSync(new URL('../../infra/firestore.rules', import.meta.url), 'utf8');

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned Firebase ID token, which the Firestore emulator accepts as the signed-in user `uid`. */
function idToken(projectId: string, uid: string, emailVerified = true): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: `https://securetoken.google.com/${projectId}`,
    aud: projectId,
    sub: uid,
    user_id: uid,
    email: `${uid.charAt(0).toUpperCase()}${uid.slice(1)}@School.example`,
    email_verified: emailVerified,
    iat: now,
    exp: now + 3600,
    auth_time: now,
  };
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
}

describe('infra/firestore.rules in the Firestore emulator', () => {
  const projectId = uniqueProjectId('rules');
  let base: string;

  const request = (method: string, path: string, auth: string | null, body?: object) =>
    fetch(`${base}/${path}`, {
      method,
      headers: {
        ...(auth ? { Authorization: `Bearer ${auth}` } : {}),
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  /** Admin-side seeding: the emulator lets the `owner` token bypass rules, as the service's credentials do. */
  const seed = async (path: string) => {
    const res = await request('PATCH', path, 'owner', { fields: { seeded: { booleanValue: true } } });
    expect(res.status, `seeding ${path}`).toBe(200);
  };

  const member = () => idToken(projectId, 'alice');
  const outsider = () => idToken(projectId, 'mallory');

  beforeAll(async () => {
    const { FIRESTORE_EMULATOR_HOST } = emulatorEnv();
    base = `http://${FIRESTORE_EMULATOR_HOST}/v1/projects/${projectId}/databases/(default)/documents`;
    const loaded = await fetch(
      `http://${FIRESTORE_EMULATOR_HOST}/emulator/v1/projects/${projectId}:securityRules`,
      {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ rules: { files: [{ name: 'firestore.rules', content: RULES }] } }),
      },
    );
    expect(loaded.status, await loaded.clone().text()).toBe(200);

    for (const t of ['t1', 't2']) {
      await seed(paths.tenant(t));
      await seed(paths.mapping(t, 'm1'));
      await seed(paths.syncState(t, 'm1'));
      await seed(`${paths.indexShards(t, 'm1')}/0000`);
      await seed(paths.run(t, 'r1'));
      await seed(`${paths.runPages(t, 'r1')}/0`);
      await seed(paths.record(t, 'chromebooks', 'rec1'));
      await seed(paths.deviceAction(t, 'a1'));
      await seed(paths.deviceActionKey(t, 'k1'));
    }
    await seed(paths.member('t1', 'alice@school.example'));
    await seed(paths.member('t2', 'mallory@school.example'));
    await seed(`${paths.oauthStates()}/state1`);
  });

  const t1Readable = [
    paths.tenant('t1'),
    paths.mapping('t1', 'm1'),
    paths.syncState('t1', 'm1'),
    paths.run('t1', 'r1'),
    `${paths.runPages('t1', 'r1')}/0`,
    paths.record('t1', 'chromebooks', 'rec1'),
    paths.deviceAction('t1', 'a1'),
  ];

  it.each(t1Readable)('lets a member of t1 read %s', async (path) => {
    expect((await request('GET', path, member())).status).toBe(200);
  });

  it('lets a member list their tenant runs and records', async () => {
    expect((await request('GET', paths.runs('t1'), member())).status).toBe(200);
    expect((await request('GET', paths.records('t1', 'chromebooks'), member())).status).toBe(200);
    expect((await request('GET', paths.deviceActions('t1'), member())).status).toBe(200);
  });

  it.each(t1Readable)('denies t1 document %s to a member of another tenant', async (path) => {
    expect((await request('GET', path, outsider())).status).toBe(403);
  });

  it('denies a member of t1 every read in t2', async () => {
    for (const path of [
      paths.tenant('t2'),
      paths.run('t2', 'r1'),
      paths.record('t2', 'chromebooks', 'rec1'),
      paths.runs('t2'),
      paths.deviceActions('t2'),
    ]) {
      expect((await request('GET', path, member())).status, path).toBe(403);
    }
  });

  it('denies unauthenticated reads', async () => {
    for (const path of [paths.tenant('t1'), paths.run('t1', 'r1'), paths.records('t1', 'chromebooks')]) {
      expect((await request('GET', path, null)).status, path).toBe(403);
    }
  });

  it('denies every client write, even a member writing into their own tenant', async () => {
    const body = { fields: { hacked: { booleanValue: true } } };
    for (const path of [
      paths.tenant('t1'),
      paths.run('t1', 'r1'),
      paths.mapping('t1', 'm2'),
      paths.member('t1', 'eve@school.example'),
      paths.record('t1', 'x', 'y'),
      paths.deviceAction('t1', 'a2'),
    ]) {
      expect((await request('PATCH', path, member(), body)).status, path).toBe(403);
    }
    expect((await request('DELETE', paths.run('t1', 'r1'), member())).status).toBe(403);
    expect((await request('PATCH', paths.tenant('t3'), null, body)).status).toBe(403);
  });

  it('denies device action Idempotency-Key records, even to a member', async () => {
    expect((await request('GET', paths.deviceActionKey('t1', 'k1'), member())).status).toBe(403);
  });

  it('denies oauthStates, member lists, hash index shards and the tenant list', async () => {
    expect((await request('GET', `${paths.oauthStates()}/state1`, member())).status).toBe(403);
    expect((await request('GET', paths.oauthStates(), member())).status).toBe(403);
    expect((await request('GET', paths.member('t1', 'alice@school.example'), member())).status).toBe(403);
    // An unverified email address proves nothing.
    expect((await request('GET', paths.run('t1', 'r1'), idToken(projectId, 'alice', false))).status).toBe(
      403,
    );
    expect((await request('GET', `${paths.indexShards('t1', 'm1')}/0000`, member())).status).toBe(403);
    expect((await request('GET', 'tenants', member())).status).toBe(403);
  });
});
