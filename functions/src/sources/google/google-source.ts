import type { Db as Firestore } from '../../store/firestore.js';
import type { Mapping } from '../../../../shared/mapping.js';
import { ENTITIES } from '../../../../shared/entities.js';
import { SourceError, type Source, type SourcePage, type SourceReader } from '../../engine/source.js';
import type { TenantDoc } from '../../store/tenants.js';
import type { Clock } from '../../platform/clock.js';
import type { NotifiedChangesReader } from '../../push/notified-changes.js';
import type { RuntimeConfig } from '../../platform/config.js';
import type { RequestBudget } from '../../store/request-budget.js';
import {
  markNeedsReauthorization,
  parseGoogleAccess,
  setEntityAccess,
  type EntityAccess,
} from '../../store/tenants.js';
import { notPermitted } from '../../connection/entity-access.js';
import { classifyDirectoryError } from './directory-errors.js';
import { GoogleDirectoryLister, type DirectoryLister, type DirectoryPage } from './directory-lister.js';
import { GROUP_MEMBERS_FIELD } from './field-mask.js';
import { directoryPartitions, partitionRequest, reversePartitionKey } from './partitions.js';
import { NotConnectedError, type WorkspaceAuth } from './workspace-auth.js';

/**
 * Google Workspace through the Directory API: users, org units, Chrome OS and mobile devices, groups. One page
 * of the entity per call, with the largest page size and a `fields` mask of what the mapping reads; a group's
 * members are listed with it when the mapping maps them.
 */

export const GOOGLE_REMOVAL_REASON = 'not returned by Google Workspace in a complete sync (deleted there)';
/** A mapping scoped to org units also loses what moved out of them. */
export const GOOGLE_SCOPED_REMOVAL_REASON =
  'not returned by Google Workspace in a complete sync (deleted there, or moved out of the mapped org units)';

const REAUTHORIZE_MESSAGE =
  'Google revoked or expired the authorization (invalid_grant); re-authorize the connection';

export interface GoogleSourceDeps {
  db: Firestore;
  config: RuntimeConfig;
  auth: WorkspaceAuth;
  clock: Clock;
  /** Tests and the benchmark swap the Directory client. */
  listerFor?(tenantId: string): Promise<DirectoryLister>;
  /** With push notifications on: users mappings get incremental passes over the notified users. */
  push?: NotifiedChangesReader;
}

export function googleSource(deps: GoogleSourceDeps): Source {
  const listerFor =
    deps.listerFor ??
    (async (tenantId: string) => new GoogleDirectoryLister(deps.config, await deps.auth.clientFor(tenantId)));
  return {
    kind: 'google',
    label: 'Google Workspace',
    // `active` is the state of the tenant's Google connection (needs_reauth and paused stop its syncs).
    connected: (tenant) => tenant.status === 'active',
    whyNotConnected: (tenant) => `tenant is ${tenant.status}`,
    // Only a scoped mapping can lose an object by a move; a group or an unscoped mapping loses it by deletion.
    absentReason: (mapping) => (mapping.orgUnitScope ? GOOGLE_SCOPED_REMOVAL_REASON : GOOGLE_REMOVAL_REASON),
    // Push (functions/src/push): notified users only on push runs; every other run is the full backstop.
    incremental: deps.push !== undefined,
    incrementalOnlyOnPush: true,
    async open(tenantId, mapping, tenant, { budget }) {
      let lister: DirectoryLister;
      try {
        lister = await listerFor(tenantId);
      } catch (err) {
        if (err instanceof NotConnectedError)
          throw new SourceError('reauthorize', 'no stored Google authorization; connect Google Workspace');
        throw toSourceError(err, false);
      }
      const reader = directoryReader(
        lister,
        mapping,
        budget,
        deps.config.sync,
        entityAccessRecorder(deps, tenantId, mapping, tenant),
      );
      return deps.push && mapping.entity === 'users' ? deps.push(tenantId, mapping, reader, budget) : reader;
    },
    async markNeedsReauthorization(tenantId, reason) {
      deps.auth.forget(tenantId);
      await markNeedsReauthorization(deps.db, tenantId, reason, new Date(deps.clock.now()));
    },
  };
}

/**
 * Per-entity permission: a 403 for this mapping's entity marks the entity "not permitted for this admin" on the
 * tenant (`googleAccess.<entity>`, with the privilege named) and fails only this mapping's run; the tenant stays
 * active and its other mappings keep syncing. The mark is cleared by the next call Google answers, so a privilege
 * granted later shows up at the next sync.
 */
interface EntityAccessRecorder {
  refused(err: SourceError, reason: string): Promise<SourceError>;
  allowed(): Promise<void>;
}

function entityAccessRecorder(
  deps: GoogleSourceDeps,
  tenantId: string,
  mapping: Mapping,
  tenant: TenantDoc,
): EntityAccessRecorder {
  let denied =
    parseGoogleAccess((tenant as { googleAccess?: unknown }).googleAccess)[mapping.entity]?.permitted ===
    false;
  const record = async (access: EntityAccess | null) => {
    // Bookkeeping only: the run's outcome must not depend on it.
    await setEntityAccess(deps.db, tenantId, mapping.entity, access).catch(() => undefined);
  };
  return {
    async refused(err, reason) {
      const at = new Date(deps.clock.now()).toISOString();
      const { message, ...access } = notPermitted(mapping.entity, reason, at);
      denied = true;
      await record(access);
      return new SourceError('not_permitted', `${ENTITIES[mapping.entity].label}: ${message}`);
    },
    async allowed() {
      if (!denied) return;
      denied = false;
      await record({
        permitted: true,
        missingPrivilege: null,
        reason: null,
        checkedAt: new Date(deps.clock.now()).toISOString(),
      });
    },
  };
}

function directoryReader(
  lister: DirectoryLister,
  mapping: Mapping,
  budget: RequestBudget,
  { pageSize, listingConcurrency }: { pageSize?: number; listingConcurrency: number },
  access: EntityAccessRecorder,
): SourceReader {
  const sourcePaths = mapping.fieldMap.map((f) => f.source);
  const withMembers = mapping.entity === 'groups' && sourcePaths.includes(GROUP_MEMBERS_FIELD);
  const call = async <T>(fn: () => Promise<T>, hadPageToken: boolean): Promise<T> => {
    await budget.acquire();
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      const sourceError = toSourceError(err, hadPageToken);
      const c = classifyDirectoryError(err);
      if (sourceError.kind === 'not_permitted' && c.kind === 'forbidden' && c.status === 403)
        throw await access.refused(sourceError, c.reason);
      throw sourceError;
    }
    await access.allowed();
    return result;
  };
  const page = async (cursor: string | null, partition: string | null): Promise<SourcePage> => {
    const listed = await call(
      () =>
        lister.listPage({
          entity: mapping.entity,
          pageToken: cursor,
          sourcePaths,
          ...(pageSize ? { pageSize } : {}),
          ...(partition === null ? {} : partitionRequest(partition)),
        }),
      cursor !== null,
    );
    if (withMembers) {
      for (const group of listed.items) {
        group[GROUP_MEMBERS_FIELD] = await membersOf(String(group.id ?? ''), lister, call);
      }
    }
    return {
      changes: listed.items.map((object) => ({ kind: 'upsert', object })),
      next: listed.nextPageToken,
    };
  };
  const getObject = lister.getObject?.bind(lister);
  // Only identifiers Google can read an object by: a user by email or id, a device by its id.
  const readable =
    (mapping.entity === 'users' && (mapping.identifier === 'primaryEmail' || mapping.identifier === 'id')) ||
    (mapping.entity === 'chromeos' && mapping.identifier === 'deviceId');
  return {
    fullPage: (cursor) => page(cursor, null),
    partitions({ knownObjects }) {
      // A listing that fit in one page last time fits in one now, most likely: partitions (40 for users) would
      // only multiply the requests of a small tenant's every pass. A first pass (nothing known) is partitioned.
      const onePage = pageSize ?? ENTITIES[mapping.entity].maxPageSize ?? 0;
      if (knownObjects > 0 && knownObjects <= onePage) return Promise.resolve(null);
      return directoryPartitions(lister, mapping, (fn) => call(fn, false));
    },
    partitionPage: (partition, cursor) => page(cursor, partition),
    reversePartition: reversePartitionKey,
    objectKey(object) {
      const key = mapping.entity === 'chromeos' ? object.deviceId : object.id;
      return typeof key === 'string' ? key : null;
    },
    async recheck(values) {
      if (!getObject || !readable) return null;
      const entity = mapping.entity as 'users' | 'chromeos';
      const found: Array<Record<string, unknown>> = [];
      const queue = [...values];
      const worker = async () => {
        for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
          const object = await call(() => getObject(entity, v, sourcePaths), false);
          if (object) found.push(object);
        }
      };
      await Promise.all(Array.from({ length: Math.min(listingConcurrency, values.length) }, worker));
      return found;
    },
  };
}

/** Every direct member of a group, sorted by email so that an unchanged group hashes the same. */
async function membersOf(
  groupId: string,
  lister: DirectoryLister,
  call: <T>(fn: () => Promise<T>, hadPageToken: boolean) => Promise<T>,
): Promise<Array<Record<string, unknown>>> {
  const members: Array<Record<string, unknown>> = [];
  let token: string | null = null;
  // Bounded like every loop here: Google caps a group at a few hundred thousand members (200 a page).
  for (let pages = 0; pages < 10_000; pages++) {
    const page: DirectoryPage = await call(() => lister.listGroupMembers(groupId, token), token !== null);
    for (const m of page.items) {
      members.push({
        email: typeof m.email === 'string' ? m.email.toLowerCase() : null,
        role: m.role ?? null,
        type: m.type ?? null,
        status: m.status ?? null,
      });
    }
    token = page.nextPageToken;
    if (token === null) break;
  }
  // Plain code-unit order (not the runtime's locale) with a full tie-break: members without an email (a
  // CUSTOMER member) must not reorder between passes, or an unchanged group would hash differently.
  const key = (m: Record<string, unknown>) =>
    [m.email, m.type, m.role, m.status].map((v) => v ?? '').join('\u0000');
  return members.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * The Directory API's answers in the engine's terms. Google answers a stale or foreign page token with a
 * generic 400 "Invalid Input" (reason `invalid`) that says nothing of page tokens, so the request tells: a 400
 * on a call that carried a page token restarts the listing.
 */
export function toSourceError(err: unknown, hadPageToken: boolean): SourceError {
  if (err instanceof SourceError) return err;
  const c = classifyDirectoryError(err);
  switch (c.kind) {
    case 'invalid_grant':
      return new SourceError('reauthorize', REAUTHORIZE_MESSAGE);
    case 'retryable':
      return new SourceError('retry_later', `Directory API ${c.status ?? 'network'} ${c.reason}`);
    case 'forbidden':
      return new SourceError('not_permitted', `Google refused the listing: ${c.reason}`);
    case 'fatal':
      if (c.status === 400 && hadPageToken) {
        return new SourceError(
          'restart_listing',
          `the page token expired or is no longer valid (Google answered 400 ${c.message || c.reason})`,
        );
      }
      return new SourceError(
        'fatal',
        `Directory API call failed: ${c.status ?? 'network'} ${c.reason} ${c.message}`.trim(),
      );
  }
}
