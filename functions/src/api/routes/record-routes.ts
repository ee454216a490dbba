import { z } from 'zod';
import { objectIdOf } from '../../../../shared/mapping.js';
import { listMappings } from '../../store/mappings.js';
import { historyByField } from '../../store/record-history.js';
import {
  countRecords,
  listChanges,
  listRecords,
  readRecord,
  RECORD_STATUSES,
  type RecordCursor,
  type RecordFilter,
  type StoredRecord,
} from '../../store/records.js';
import { ApiError, notFound } from '../api-error.js';
import { csvDocument } from '../csv.js';
import { json, type ApiResult } from '../http.js';
import { PARAM_SCHEMAS } from '../path-params.js';
import { parseQuery } from '../request-body.js';
import { requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/**
 * Records as synced: a page of them (search, filter, total), one with its provenance and history, the change
 * feed (`updatedSince`) for hosts that poll, and a CSV export. README "Records API and change feed".
 */

/** A mapped field name, as shared/mapping.ts allows them (bookkeeping blocks start with "_" and are not). */
const fieldName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,99}$/, 'a mapped field name: a letter followed by letters, digits or _');

const filterQuery = {
  status: z.enum(RECORD_STATUSES).optional(),
  /** Prefix of the identifier value (email, serial number, device id...). */
  q: z.string().min(1).max(200).optional(),
  field: fieldName.optional(),
  value: z.string().max(500).optional(),
  pageToken: z.string().max(2100).optional(),
};

const listQuery = z.strictObject({
  ...filterQuery,
  updatedSince: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const exportQuery = z.strictObject({
  ...filterQuery,
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
});

type FilterParams = { status?: string; q?: string; field?: string; value?: string };

const badQuery = (path: string, message: string) =>
  new ApiError('invalid_argument', 'invalid query parameter', [{ path, message }]);

/** The filter of a listing; the combinations Firestore cannot answer without an index per field are refused. */
function filterOf(q: FilterParams): RecordFilter {
  if ((q.field === undefined) !== (q.value === undefined)) {
    throw badQuery(q.field === undefined ? 'field' : 'value', 'field and value go together');
  }
  if (q.q !== undefined && q.field !== undefined) {
    throw badQuery('q', 'search by identifier (q) or filter by a field, not both');
  }
  return {
    status: q.status as RecordFilter['status'],
    prefix: q.q,
    equals: q.field !== undefined ? { field: q.field, values: typedValues(q.value!) } : undefined,
  };
}

/** A value typed in a query string also matches the number or boolean it spells: Firestore compares by type. */
function typedValues(value: string): Array<string | number | boolean> {
  const out: Array<string | number | boolean> = [value];
  if (value === 'true' || value === 'false') out.push(value === 'true');
  else if (value.trim() !== '' && Number.isFinite(Number(value))) out.push(Number(value));
  return out;
}

// --- page tokens: the position of the last record returned, opaque to the client ---

const tokenSchema = z.discriminatedUnion('k', [
  z.strictObject({ k: z.literal('id'), id: PARAM_SCHEMAS.recordId }),
  z.strictObject({ k: z.literal('q'), id: PARAM_SCHEMAS.recordId, v: z.string().max(1500) }),
  z.strictObject({
    k: z.literal('feed'),
    /** The `updatedSince` the feed started from. */
    s: z.string(),
    /** The last record returned (none yet: from `s` inclusive). */
    u: z.string().optional(),
    id: PARAM_SCHEMAS.recordId.optional(),
  }),
]);
type PageToken = z.infer<typeof tokenSchema>;

const encodeToken = (t: PageToken) => Buffer.from(JSON.stringify(t), 'utf8').toString('base64url');

function decodeToken(token: string): PageToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const t = tokenSchema.safeParse(parsed);
  if (!t.success || encodeToken(t.data) !== token) {
    throw badQuery('pageToken', 'not a page token from this API');
  }
  return t.data;
}

function cursorOf(token: string | undefined, byPrefix: boolean): RecordCursor | undefined {
  if (token === undefined) return undefined;
  const t = decodeToken(token);
  if (byPrefix && t.k === 'q') return { id: t.id, value: t.v };
  if (!byPrefix && t.k === 'id') return { id: t.id };
  throw badQuery('pageToken', 'this page token belongs to another kind of listing');
}

const tokenOfCursor = (c: RecordCursor): PageToken =>
  c.value !== undefined ? { k: 'q', id: c.id, v: c.value } : { k: 'id', id: c.id };

// --- views ---

type SyncBlock = {
  source?: string;
  sourceId?: string;
  mappingId?: string;
  runId?: string;
  updatedAt?: string;
  identifier?: unknown;
  sources?: string[];
  lastSource?: string;
};

interface PeopleBlock {
  provenance?: Record<string, string>;
  sources?: Record<string, { sourceId?: string; active?: boolean; lastSeenAt?: string; removedAt?: string }>;
}

const peopleBlockOf = (r: StoredRecord): PeopleBlock | null =>
  r.people && typeof r.people === 'object' ? (r.people as PeopleBlock) : null;

/**
 * A record as synced; `sync` says where it came from and, for removed ones, when and why it was removed. Merged
 * people carry `fieldSources` (field -> the source its value came from) instead of their raw `_people` block.
 */
function recordView(objectId: string, record: StoredRecord) {
  const people = peopleBlockOf(record);
  return {
    recordId: record.id,
    objectId,
    data: record.fields,
    sync: record.sync ?? null,
    ...(people ? { fieldSources: people.provenance ?? {} } : {}),
  };
}

/** GET /api/tenants/:tenantId/objects/:objectId/records?status&q&field&value&updatedSince&limit&pageToken */
async function list(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const objectId = ctx.params.objectId!;
  const q = parseQuery(ctx.req, listQuery);
  const feedToken = q.pageToken !== undefined ? decodeToken(q.pageToken) : undefined;
  if (q.updatedSince !== undefined || feedToken?.k === 'feed') return feed(ctx, q, feedToken);
  const filter = filterOf(q);
  const byPrefix = filter.prefix !== undefined;
  const [page, total] = await Promise.all([
    listRecords(ctx.app.db, tenantId, objectId, {
      ...filter,
      limit: q.limit,
      after: cursorOf(q.pageToken, byPrefix),
    }),
    countRecords(ctx.app.db, tenantId, objectId, filter),
  ]);
  const last = page.records.at(-1);
  return json(200, {
    records: page.records.map((r) => recordView(objectId, r)),
    total,
    nextPageToken: page.more && last ? encodeToken(tokenOfCursor(page.cursor(last))) : null,
  });
}

/**
 * Writes become visible to the feed only once this long has passed: a record's `updatedAt` is taken just before
 * its commit, so a write can land after a reader has moved past its time. Sixty seconds covers a page's read
 * and commit (seconds) and the clock skew of function instances (milliseconds) with room to spare; a feed is
 * this much behind the newest writes, and a write whose commit took longer could be missed.
 */
export const FEED_SETTLE_MS = 60_000;

/** The change feed: every record written since `updatedSince`, in write order, ties by id; removals included. */
async function feed(
  ctx: RouteContext,
  q: z.infer<typeof listQuery>,
  token: PageToken | undefined,
): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const objectId = ctx.params.objectId!;
  for (const name of ['status', 'q', 'field', 'value'] as const) {
    if (q[name] !== undefined) throw badQuery(name, 'the change feed (updatedSince) takes no filter');
  }
  if (token && token.k !== 'feed') {
    throw badQuery('pageToken', 'this page token belongs to another kind of listing');
  }
  const since = q.updatedSince !== undefined ? new Date(q.updatedSince).toISOString() : token!.s;
  if (token && token.s !== since) {
    throw badQuery('updatedSince', 'the page token was issued for another updatedSince');
  }
  const until = new Date(ctx.app.clock.now() - FEED_SETTLE_MS).toISOString();
  const after =
    token?.u !== undefined && token.id !== undefined ? { updatedAt: token.u, id: token.id } : undefined;
  const page = await listChanges(ctx.app.db, tenantId, objectId, { since, until, limit: q.limit, after });
  const last = page.records.at(-1);
  const position: PageToken = last
    ? { k: 'feed', s: since, u: (last.sync as SyncBlock | undefined)?.updatedAt ?? since, id: last.id }
    : (token ?? { k: 'feed', s: since });
  return json(200, {
    records: page.records.map((r) => recordView(objectId, r)),
    // Always a token: a host keeps it and polls with it later; `hasMore` says whether to ask again at once.
    nextPageToken: encodeToken(position),
    hasMore: page.more,
    /** Changes up to this time are complete in the pages so far (newer ones are still settling). */
    settledUntil: until,
  });
}

/** GET .../records/:recordId: the record, where it came from, its last changes; merged people per source. */
async function get(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const objectId = ctx.params.objectId!;
  const [record, mappings] = await Promise.all([
    readRecord(ctx.app.db, tenantId, objectId, ctx.params.recordId!),
    listMappings(ctx.app.db, tenantId),
  ]);
  if (!record) throw notFound('record not found');
  const sync = (record.sync ?? {}) as SyncBlock;
  const mappingName = (id: string | undefined) =>
    id ? ((mappings.find((m) => m.id === id)?.data.name as string | undefined) ?? null) : null;
  const people = peopleBlockOf(record);
  const history = [...record.history].reverse();
  return json(200, {
    ...recordView(objectId, record),
    provenance: {
      source: sync.source ?? null,
      mapping: sync.mappingId ? { id: sync.mappingId, name: mappingName(sync.mappingId) } : null,
      runId: sync.runId ?? null,
      /** The id of the object at its source: Google's Directory id (a user's or device's), or Entra's object id. */
      directoryId: sync.sourceId ?? null,
      identifier: sync.identifier ?? null,
      updatedAt: sync.updatedAt ?? null,
    },
    history,
    fieldHistory: historyByField(record.history),
    ...(people
      ? {
          people: {
            fields: Object.keys(record.fields)
              .sort()
              .map((name) => ({
                name,
                value: record.fields[name] as unknown,
                source: people.provenance?.[name] ?? null,
              })),
            sources: Object.fromEntries(
              Object.entries(people.sources ?? {}).map(([source, s]) => [
                source,
                {
                  directoryId: s.sourceId ?? null,
                  active: s.active ?? null,
                  lastSeenAt: s.lastSeenAt ?? null,
                  removedAt: s.removedAt ?? null,
                },
              ]),
            ),
          },
        }
      : {}),
  });
}

/** GET .../objects/:objectId/record-totals: how many records of each status (count aggregations). */
async function totals(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const objectId = ctx.params.objectId!;
  parseQuery(ctx.req, z.strictObject({}));
  const counts = await Promise.all(
    RECORD_STATUSES.map((status) => countRecords(ctx.app.db, tenantId, objectId, { status })),
  );
  const byStatus = Object.fromEntries(RECORD_STATUSES.map((s, i) => [s, counts[i]!]));
  return json(200, { objectId, ...byStatus, total: counts.reduce((a, b) => a + b, 0) });
}

const FIXED_COLUMNS = ['recordId', 'status', 'updatedAt', 'removedAt', 'removedReason'] as const;

/**
 * GET .../objects/:objectId/records.csv?status&q&field&value&limit&pageToken: the records as CSV, in pages of up
 * to 1,000 rows (`X-Next-Page-Token` names the next; only the first page has the header row). The columns are
 * the fields of the mappings that write the object, so every page has the same ones.
 */
async function exportCsv(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const objectId = ctx.params.objectId!;
  const q = parseQuery(ctx.req, exportQuery);
  const filter = filterOf(q);
  const [page, mappings] = await Promise.all([
    listRecords(ctx.app.db, tenantId, objectId, {
      ...filter,
      limit: q.limit,
      after: cursorOf(q.pageToken, filter.prefix !== undefined),
    }),
    listMappings(ctx.app.db, tenantId),
  ]);
  const columns: string[] = [];
  for (const m of mappings) {
    if (!m.mapping || objectIdOf(m.mapping.target) !== objectId) continue;
    if (m.mapping.target.kind === 'people') columns.push('email');
    if (m.mapping.target.kind === 'loginUsers') columns.push('email', 'role', 'active');
    for (const f of m.mapping.fieldMap) if (f.direction !== 'none') columns.push(f.target);
  }
  // No mapping writes the object any more: the fields of the records themselves (sorted, per page).
  if (columns.length === 0) columns.push(...page.records.flatMap((r) => Object.keys(r.fields)).sort());
  const fields = [...new Set(columns)];
  const rows = page.records.map((r) => {
    const sync = (r.sync ?? {}) as Record<string, unknown>;
    return [
      r.id,
      sync.status ?? 'active',
      sync.updatedAt ?? null,
      sync.removedAt ?? null,
      sync.removedReason ?? null,
      ...fields.map((f) => r.fields[f] as unknown),
    ];
  });
  const last = page.records.at(-1);
  const next = page.more && last ? encodeToken(tokenOfCursor(page.cursor(last))) : null;
  return {
    kind: 'text',
    status: 200,
    contentType: 'text/csv; charset=utf-8',
    text: csvDocument(q.pageToken === undefined ? [...FIXED_COLUMNS, ...fields] : null, rows),
    headers: {
      'content-disposition': `attachment; filename="${objectId}-records.csv"`,
      ...(next ? { 'x-next-page-token': next } : {}),
    },
  };
}

const objectBase = '/api/tenants/:tenantId/objects/:objectId';
const base = `${objectBase}/records`;
const read = { kind: 'tenant', need: 'read', allowHost: true } as const;
export const recordRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: base,
    access: read,
    handle: list,
    doc: {
      summary:
        'Records synced into a target object, a page at a time: filtered by status, a field value or an identifier prefix, or as a change feed (`updatedSince`, in update order)',
      query: listQuery,
      responses: { 200: { description: '`{records, nextPageToken}` (null on the last page).' } },
    },
  },
  {
    method: 'GET',
    pattern: `${base}/:recordId`,
    access: read,
    handle: get,
    doc: {
      summary:
        'One record with its provenance (source, mapping, run, Directory id), its last changes per field and, for merged people, each field with its source',
      responses: {
        200: {
          description: '`{recordId, objectId, data, sync, provenance, history, fieldHistory, people?}`.',
        },
      },
    },
  },
  {
    method: 'GET',
    pattern: `${objectBase}/record-totals`,
    access: read,
    handle: totals,
    doc: {
      summary: 'How many records of the object there are, by status',
      responses: { 200: { description: '`{objectId, <status>: n, total}`.' } },
    },
  },
  {
    method: 'GET',
    pattern: `${objectBase}/records.csv`,
    access: read,
    handle: exportCsv,
    doc: {
      summary:
        'The records as CSV, up to 1,000 rows a page (`X-Next-Page-Token` names the next; only the first page has the header row)',
      query: exportQuery,
      responses: { 200: { description: 'text/csv' } },
    },
  },
];
