import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../functions/src/engine/engine.js';
import { recordIdFor } from '../../functions/src/engine/record-id.js';
import { csvCell, csvDocument } from '../../functions/src/api/csv.js';
import { FEED_SETTLE_MS } from '../../functions/src/api/routes/record-routes.js';
import { rejectedUnchanged, startApiHarness, withoutWrites, type ApiHarness } from './api-harness.js';

/**
 * The records API over HTTP against the emulators: search (identifier prefix), filter (field = value, status),
 * totals, CSV export, the detail view with provenance and history, and the change feed; tenant isolation and
 * bad input.
 */

let h: ApiHarness;
let owner: string;
let outsider: string;
let mappingId: string;
const T = 'rec-a';
const OTHER = 'rec-b';
const base = `/api/tenants/${T}/objects/staff`;

const CRAFTED = [
  {
    primaryEmail: 'formula.person@school.example',
    givenName: '=HYPERLINK("http://x","y")',
    familyName: 'Comma, "Quoted"',
  },
  { primaryEmail: 'at.person@school.example', givenName: '@SUM(A1)', familyName: '-Minus' },
  { primaryEmail: 'plain.person@school.example', givenName: 'Plain', familyName: 'Person' },
];

let requestSeq = 0;
const sync = async () => {
  const out = await runSync(h.app.syncDeps(), {
    kind: 'sync',
    tenantId: T,
    mappingId,
    requestId: `records-api-${++requestSeq}`,
    trigger: 'manual',
  });
  if (out.status !== 'completed') throw new Error(`sync ${out.status}`);
  return out;
};
const get = (path: string, token = owner) => h.request('GET', path, { token });

beforeAll(async () => {
  h = await startApiHarness({ users: 9, chromeos: 0, mobile: 0 });
  owner = await h.signIn(h.ws.adminEmail);
  outsider = await h.signIn(await h.addUser('olga.outsider@school.example'));
  await h.createTenant(T, h.ws.adminEmail);
  await h.createTenant(OTHER, 'olga.outsider@school.example');
  for (const u of CRAFTED) await h.control.addUser(h.ws.customerId, u);
  const m = await h.request('POST', `/api/tenants/${T}/mappings`, {
    token: owner,
    body: {
      name: 'Staff',
      entity: 'users',
      identifier: 'primaryEmail',
      target: { kind: 'collection', objectId: 'staff' },
      fieldMap: [
        { source: 'primaryEmail', target: 'email' },
        { source: 'name.givenName', target: 'firstName' },
        { source: 'name.familyName', target: 'lastName' },
        { source: 'orgUnitPath', target: 'orgUnit' },
        { source: 'isAdmin', target: 'isAdmin' },
      ],
      removalThresholdPercent: 50,
    },
  });
  expect(m.status, m.text).toBe(201);
  mappingId = m.body.id as string;
  await h.connect(T, owner);
  await h.pullSyncMessages();
  await sync();
});
afterAll(async () => {
  await h?.close();
});

type Rec = { recordId: string; data: Record<string, unknown>; sync: Record<string, unknown> };
type Change = { kind: string; from: unknown; to: unknown; runId: string };

const allUsers = async () => {
  const res = await get(`${base}/records?limit=200`);
  expect(res.status, res.text).toBe(200);
  return res.body.records as Rec[];
};

describe('search, filter and totals', () => {
  it('lists with the total of the filter, and totals per status', async () => {
    const records = await allUsers();
    const res = await get(`${base}/records?limit=2`);
    expect(res.body.total).toBe(records.length);
    expect(res.body.records).toHaveLength(2);
    expect(res.body.nextPageToken).toEqual(expect.any(String));
    // The raw bookkeeping blocks are not fields.
    expect(Object.keys(res.body.records[0].data).sort()).toEqual([
      'email',
      'firstName',
      'isAdmin',
      'lastName',
      'orgUnit',
    ]);
    const totals = await get(`${base}/record-totals`);
    expect(totals.status).toBe(200);
    expect(totals.body).toEqual({
      objectId: 'staff',
      active: records.length,
      inactive: 0,
      removed: 0,
      total: records.length,
    });
  });

  it('searches by identifier prefix, in identifier order, paging with a token', async () => {
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const qs = new URLSearchParams({ q: 'formula.', limit: '1', ...(token ? { pageToken: token } : {}) });
      const res = await get(`${base}/records?${qs}`);
      expect(res.status, res.text).toBe(200);
      expect(res.body.total).toBe(1);
      seen.push(...res.body.records.map((r: Rec) => r.data.email));
      token = res.body.nextPageToken;
    } while (token);
    expect(seen).toEqual(['formula.person@school.example']);

    const all = await allUsers();
    const prefix = 'a';
    const expected = all
      .map((r) => r.data.email as string)
      .filter((e) => e.startsWith(prefix))
      .sort();
    const emails: string[] = [];
    token = null;
    do {
      const qs = new URLSearchParams({ q: prefix, limit: '2', ...(token ? { pageToken: token } : {}) });
      const res = await get(`${base}/records?${qs}`);
      expect(res.body.total).toBe(expected.length);
      emails.push(...res.body.records.map((r: Rec) => r.data.email));
      token = res.body.nextPageToken;
    } while (token);
    expect(emails).toEqual(expected);
  });

  it('filters by a mapped field (a typed value also matches its number or boolean) and by status', async () => {
    const res = await get(`${base}/records?field=lastName&value=Person`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.records.map((r: Rec) => r.data.email)).toEqual(['plain.person@school.example']);
    expect(res.body.total).toBe(1);

    const all = await allUsers();
    const admins = all.filter((r) => r.data.isAdmin === true).length;
    const byBool = await get(`${base}/records?field=isAdmin&value=true&limit=200`);
    expect(byBool.body.total).toBe(admins);
    expect(byBool.body.records.every((r: Rec) => r.data.isAdmin === true)).toBe(true);

    const removed = await get(`${base}/records?status=removed`);
    expect(removed.body).toMatchObject({ records: [], total: 0, nextPageToken: null });
  });

  it('refuses what it cannot answer with a 400 in the API error shape, changing nothing', async () => {
    const bad = [
      '?field=lastName', // a field without a value
      '?value=x', // a value without a field
      '?q=a&field=lastName&value=x', // both kinds of search
      '?field=_sync&value=x', // bookkeeping is not a field
      '?field=a.b&value=x',
      '?status=gone',
      '?limit=0',
      '?limit=201',
      '?pageToken=bm90LWEtdG9rZW4',
      '?unknown=1',
      '?updatedSince=yesterday',
      '?updatedSince=2026-01-01', // RFC 3339 needs a time and an offset
      '?updatedSince=2026-01-01T00:00:00Z&status=active',
      '?updatedSince=2026-01-01T00:00:00Z&q=a',
    ];
    for (const qs of bad) {
      const res = await rejectedUnchanged(h, () => get(`${base}/records${qs}`), 400, 'invalid_argument');
      expect(res.body.error.message, qs).toEqual(expect.any(String));
    }
    // A token of one kind of listing is refused by another.
    const prefixToken = (await get(`${base}/records?q=a&limit=1`)).body.nextPageToken as string;
    await rejectedUnchanged(
      h,
      () => get(`${base}/records?pageToken=${prefixToken}`),
      400,
      'invalid_argument',
    );
    await rejectedUnchanged(
      h,
      () => get(`${base}/records?updatedSince=2026-01-01T00:00:00Z&pageToken=${prefixToken}`),
      400,
      'invalid_argument',
    );
    await rejectedUnchanged(h, () => get(`${base}/record-totals?x=1`), 400, 'invalid_argument');
    await rejectedUnchanged(h, () => get(`${base}/records.csv?limit=5000`), 400, 'invalid_argument');
  });

  it('keeps tenants apart: a non-member gets 404 and another tenant lists only its own', async () => {
    for (const path of [
      `${base}/records`,
      `${base}/records?updatedSince=2020-01-01T00:00:00Z`,
      `${base}/record-totals`,
      `${base}/records.csv`,
      `${base}/records/${encodeURIComponent(recordIdFor('primaryEmail', 'plain.person@school.example'))}`,
    ]) {
      await rejectedUnchanged(h, () => get(path, outsider), 404, 'not_found');
    }
    await rejectedUnchanged(h, () => get(`/api/tenants/${OTHER}/objects/staff/records`), 404, 'not_found');
    const own = await get(
      `/api/tenants/${OTHER}/objects/staff/records?updatedSince=2020-01-01T00:00:00Z`,
      outsider,
    );
    expect(own.status).toBe(200);
    expect(own.body.records).toEqual([]);
    const ownTotals = await get(`/api/tenants/${OTHER}/objects/staff/record-totals`, outsider);
    expect(ownTotals.body.total).toBe(0);
  });
});

describe('CSV export', () => {
  it('quotes what must be quoted and defuses formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-x')).toBe("'-x");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('\t=1')).toBe("'\t=1");
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(true)).toBe('true');
    expect(csvCell(null)).toBe('');
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
    expect(csvDocument(['x', 'y'], [[1, 'two']])).toBe('x,y\r\n1,two\r\n');
  });

  it('exports the records as CSV in pages with a header row on the first', async () => {
    const all = await allUsers();
    const first = await withoutWrites(h, () => get(`${base}/records.csv?limit=5`));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(first.headers.get('content-disposition')).toBe('attachment; filename="staff-records.csv"');
    const lines = [first.text];
    let token = first.headers.get('x-next-page-token');
    while (token) {
      const next = await get(`${base}/records.csv?limit=5&pageToken=${token}`);
      expect(next.status).toBe(200);
      expect(next.text.startsWith('recordId,')).toBe(false);
      lines.push(next.text);
      token = next.headers.get('x-next-page-token');
    }
    const csv = lines.join('');
    expect(
      csv.startsWith(
        'recordId,status,updatedAt,removedAt,removedReason,email,firstName,lastName,orgUnit,isAdmin\r\n',
      ),
    ).toBe(true);
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(all.length + 1);
    const formulaRow = csv.split('\r\n').find((l) => l.includes('formula.person@school.example'))!;
    expect(formulaRow).toContain(`,"'=HYPERLINK(""http://x"",""y"")","Comma, ""Quoted""",`);
    const atRow = csv.split('\r\n').find((l) => l.includes('at.person@school.example'))!;
    expect(atRow).toContain(",'@SUM(A1),'-Minus,");

    const filtered = await get(`${base}/records.csv?field=lastName&value=Person`);
    expect(filtered.text.split('\r\n').filter(Boolean)).toHaveLength(2);
    expect(filtered.headers.get('x-next-page-token')).toBeNull();
  });
});

describe('detail view', () => {
  it('shows provenance and the last changes of each field', async () => {
    const email = 'plain.person@school.example';
    const path = `${base}/records/${encodeURIComponent(recordIdFor('primaryEmail', email))}`;
    const firstRun = (await get(path)).body.provenance.runId as string;
    await h.control.updateUser(h.ws.customerId, email, { name: { givenName: 'Plainer' } });
    const out = await sync();
    const res = await get(path);
    expect(res.status, res.text).toBe(200);
    const user = (await h.control.getUser(h.ws.customerId, email)) as { id: string };
    expect(res.body.provenance).toMatchObject({
      source: 'google',
      mapping: { id: mappingId, name: 'Staff' },
      runId: out.runId,
      directoryId: user.id,
      identifier: { field: 'primaryEmail', value: email },
    });
    expect(res.body.history.map((e: Change) => e.kind)).toEqual(['updated', 'created']);
    expect(res.body.history[0]).toMatchObject({
      runId: out.runId,
      changes: [{ field: 'firstName', from: 'Plain', to: 'Plainer' }],
    });
    // The creation names no values (they were the record's own): the update's `from` is the first value.
    expect(res.body.fieldHistory.firstName.map((c: Change) => [c.from, c.to, c.runId])).toEqual([
      ['Plain', 'Plainer', out.runId],
    ]);
    expect(res.body.history[1]).toMatchObject({ kind: 'created', runId: firstRun, changes: [] });
    expect(res.body.data).not.toHaveProperty('_history');
    expect(res.body).not.toHaveProperty('people');
  });
});

describe('merged people', () => {
  it('come as fields with the source of each, never as a raw _people column', async () => {
    const m = await h.request('POST', `/api/tenants/${T}/mappings`, {
      token: owner,
      body: {
        name: 'People',
        entity: 'users',
        identifier: 'primaryEmail',
        target: { kind: 'people' },
        fieldMap: [
          { source: 'name.givenName', target: 'givenName' },
          { source: 'orgUnitPath', target: 'orgUnit' },
        ],
      },
    });
    expect(m.status, m.text).toBe(201);
    const out = await runSync(h.app.syncDeps(), {
      kind: 'sync',
      tenantId: T,
      mappingId: m.body.id as string,
      requestId: `records-api-people-${++requestSeq}`,
      trigger: 'manual',
    });
    if (out.status !== 'completed') throw new Error(out.status);
    const list = await get(`/api/tenants/${T}/objects/people/records?q=at.person`);
    expect(list.status, list.text).toBe(200);
    const [person] = list.body.records as Array<Rec & { fieldSources: Record<string, string> }>;
    expect(person!.data).not.toHaveProperty('_people');
    expect(person!.data).not.toHaveProperty('_history');
    expect(person!.fieldSources).toMatchObject({ givenName: 'google', orgUnit: 'google' });

    const detail = await get(
      `/api/tenants/${T}/objects/people/records/${encodeURIComponent(person!.recordId)}`,
    );
    expect(detail.status, detail.text).toBe(200);
    const user = (await h.control.getUser(h.ws.customerId, 'at.person@school.example')) as { id: string };
    expect(detail.body.people.fields).toContainEqual({
      name: 'givenName',
      value: '@SUM(A1)',
      source: 'google',
    });
    expect(detail.body.people.sources.google).toMatchObject({
      directoryId: user.id,
      active: true,
      removedAt: null,
    });
    expect(detail.body.provenance).toMatchObject({ source: 'people', runId: out.runId });
    expect(detail.body.history.map((e: Change) => e.kind)).toEqual(['created']);
  });
});

describe('change feed', () => {
  type FeedRecord = {
    recordId: string;
    data: Record<string, unknown>;
    sync: { updatedAt: string; status: string };
  };
  const page = async (qs: string, signed = false) => {
    const path = `${base}/records?${qs}`;
    const res = signed ? await h.hostRequest('GET', path, undefined) : await get(path);
    expect(res.status, res.text).toBe(200);
    return res.body as {
      records: FeedRecord[];
      nextPageToken: string;
      hasMore: boolean;
      settledUntil: string;
    };
  };
  /** Follows the feed from a token until it has nothing more now; what it returned, in order. */
  const drain = async (token: string, limit = 3) => {
    const out: FeedRecord[] = [];
    for (let i = 0; i < 50; i++) {
      const p = await page(`limit=${limit}&pageToken=${token}`);
      out.push(...p.records);
      token = p.nextPageToken;
      if (!p.hasMore) return { records: out, token };
    }
    throw new Error('the feed did not end');
  };
  const key = (r: FeedRecord) => `${r.sync.updatedAt}|${r.recordId}`;

  it('pages in update order (ties by id), includes removals, and loses nothing written meanwhile', async () => {
    const since = new Date(h.clock.now() - 3_600_000).toISOString();
    // The first sync is settled (older than FEED_SETTLE_MS) once the clock has moved on.
    h.clock.offsetMs += FEED_SETTLE_MS + 1000;

    const all = await allUsers();
    const first = await page(`updatedSince=${encodeURIComponent(since)}&limit=3`, true); // the host polls, signed
    expect(first.records).toHaveLength(3);
    expect(first.hasMore).toBe(true);

    // While the host pages: a record it already has changes, one it has not yet seen changes, one is removed.
    const returned = first.records[0]!.data.email as string;
    const later = all
      .map((r) => r.data.email as string)
      .filter((e) => !first.records.some((r) => r.data.email === e));
    const pending = later.at(-1)!;
    const gone = later.at(-2)!;
    await h.control.updateUser(h.ws.customerId, returned, { name: { givenName: 'Changed' } });
    await h.control.updateUser(h.ws.customerId, pending, { name: { givenName: 'AlsoChanged' } });
    await h.control.deleteUser(h.ws.customerId, gone);
    await sync();

    const rest = await drain(first.nextPageToken);
    const pass1 = [...first.records, ...rest.records];
    // In order, no record twice within a pass.
    expect(pass1.map(key)).toEqual([...pass1.map(key)].sort());
    expect(new Set(pass1.map((r) => r.recordId)).size).toBe(pass1.length);
    // The records written by the second sync are newer than the settled horizon: not yet.
    expect(pass1.some((r) => r.data.firstName === 'AlsoChanged' || r.data.firstName === 'Changed')).toBe(
      false,
    );

    // Once they settle, the same token yields exactly the three records written since, removal included.
    h.clock.offsetMs += FEED_SETTLE_MS + 1000;
    const pass2 = await drain(rest.token);
    const byEmail = new Map(pass2.records.map((r) => [r.data.email as string, r]));
    expect([...byEmail.keys()].sort()).toEqual([gone, pending, returned].sort());
    expect(byEmail.get(returned)!.data.firstName).toBe('Changed');
    expect(byEmail.get(pending)!.data.firstName).toBe('AlsoChanged');
    expect(byEmail.get(gone)!.sync.status).toBe('removed');
    // Every record reached the host at least once, in its latest version by the end.
    const seen = new Set([...pass1, ...pass2.records].map((r) => r.data.email));
    for (const r of all) expect(seen.has(r.data.email)).toBe(true);

    // Nothing new: an empty page and the same position.
    const idle = await page(`pageToken=${pass2.token}`);
    expect(idle.records).toEqual([]);
    expect(idle.nextPageToken).toBe(pass2.token);
  });

  it('refuses a feed token for another updatedSince', async () => {
    const since = '2020-01-01T00:00:00Z';
    const p = await page(`updatedSince=${since}&limit=1`);
    await rejectedUnchanged(
      h,
      () => get(`${base}/records?updatedSince=2021-01-01T00:00:00Z&pageToken=${p.nextPageToken}`),
      400,
      'invalid_argument',
    );
    // The same updatedSince next to its token is fine.
    const again = await page(`updatedSince=${since}&limit=1&pageToken=${p.nextPageToken}`);
    expect(again.records[0]!.recordId).not.toBe(p.records[0]!.recordId);
  });
});
