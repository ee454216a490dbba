import type { Db as Firestore } from '../../store/firestore.js';
import { SourceError, type Source, type SourceChange } from '../../engine/source.js';
import type { Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import {
  loadEntraConnection,
  markEntraState,
  parseTenantEntra,
  type EntraConnection,
  type EntraConnectionState,
} from './entra-connection.js';
import { EntraError, type EntraErrorCode } from './entra-error.js';
import { EntraGraphClient, type OrderedDeltaPage } from './entra-graph-client.js';
import type { GraphUser } from './graph-schemas.js';
import { mapGraphUser } from './map-graph-user.js';

/**
 * Microsoft Entra users through Graph's delta query. A full pass is a delta round without a link (it lists
 * everyone and ends with a deltaLink); an incremental pass follows the stored deltaLink and lists only what
 * changed, `@removed` entries included. Cursors are Graph's own nextLink / deltaLink URLs.
 */

export const ENTRA_REMOVAL_REASON = 'not returned by Microsoft Entra in a full sync';

const REMOVED_REASONS: Record<string, string> = {
  changed: 'deleted in Microsoft Entra (restorable for 30 days)',
  deleted: 'permanently deleted in Microsoft Entra',
};

/** Errors an admin has to fix: the connection is marked and its syncs stop until then (no retry storm). */
const STOP_STATES: Partial<Record<EntraErrorCode, EntraConnectionState>> = {
  CONSENT_REQUIRED: 'needs_consent',
  PERMISSION_DENIED: 'needs_consent',
  INVALID_CLIENT: 'needs_credentials',
  TENANT_NOT_FOUND: 'needs_credentials',
  INVALID_CONFIGURATION: 'needs_credentials',
};

export interface EntraSourceDeps {
  db: Firestore;
  clock: Clock;
  log: Logger;
  secrets: SecretStore;
  /** The Graph client for a connection; tests pass faster retries. Throttling retries live in the client. */
  graphClientFor?(connection: EntraConnection): EntraGraphClient;
}

export function entraSource(deps: EntraSourceDeps): Source {
  /** The connection state each tenant's last stopping error calls for (read by markNeedsReauthorization). */
  const stopStates = new Map<string, EntraConnectionState>();
  const classify = (tenantId: string, err: unknown, hadLink: boolean): SourceError => {
    if (!(err instanceof EntraError))
      return new SourceError('retry_later', err instanceof Error ? err.message : String(err));
    const stop = STOP_STATES[err.code];
    if (stop) {
      stopStates.set(tenantId, stop);
      return new SourceError('reauthorize', err.message);
    }
    // An expired delta state, or a stored link Graph no longer accepts: list everyone again.
    if (err.code === 'RESYNC_REQUIRED' || (err.code === 'INVALID_ARGUMENT' && hadLink)) {
      return new SourceError('restart_listing', `${err.message}; ran a full sync instead`);
    }
    return new SourceError(err.retryable ? 'retry_later' : 'fatal', err.message);
  };
  return {
    kind: 'entra',
    label: 'Microsoft Entra',
    connected: (tenant) => parseTenantEntra(tenant.entra)?.state === 'connected',
    whyNotConnected: (tenant) => {
      const entra = parseTenantEntra(tenant.entra);
      return entra ? `the Entra connection is ${entra.state}` : 'Microsoft Entra is not connected';
    },
    absentReason: () => ENTRA_REMOVAL_REASON,
    incremental: true,
    async open(tenantId, _mapping, tenant) {
      const loaded = await loadEntraConnection(deps, tenantId, tenant.entra);
      if (loaded.kind !== 'ok') {
        stopStates.set(tenantId, 'needs_credentials');
        throw new SourceError(
          'reauthorize',
          loaded.kind === 'invalid' ? loaded.reason : 'Microsoft Entra is not connected',
        );
      }
      const client = deps.graphClientFor?.(loaded.connection) ?? new EntraGraphClient(loaded.connection);
      const page = async (cursor: string | null) => {
        let result: OrderedDeltaPage;
        try {
          result = await client.deltaPage(cursor);
        } catch (err) {
          throw classify(tenantId, err, cursor !== null);
        }
        return {
          changes: result.entries.map(toChange),
          next: result.nextLink,
          resumeCursor: result.deltaLink,
        };
      };
      return { fullPage: page, changesPage: page };
    },
    async markNeedsReauthorization(tenantId, reason) {
      const state = stopStates.get(tenantId) ?? 'needs_credentials';
      stopStates.delete(tenantId);
      await markEntraState(deps.db, tenantId, state, reason, new Date(deps.clock.now()));
      deps.log.warn('Entra sync stopped until an admin acts', { tenantId, state });
    },
  };
}

function toChange(entry: OrderedDeltaPage['entries'][number]): SourceChange {
  if (entry.kind === 'removed') {
    const r = entry.removed;
    return {
      kind: 'remove',
      sourceId: r.id,
      reason: REMOVED_REASONS[r.reason] ?? `removed in Microsoft Entra (${r.reason})`,
    };
  }
  return { kind: 'upsert', object: entraUserObject(entry.user) };
}

/**
 * A Graph user as Entra mappings read it (shared/entities.ts ENTRA_USERS): Graph's fields, trimmed, plus
 * `email` (absent for users who are not a person here, such as guests without a mailbox address) and `phone`.
 */
export function entraUserObject(user: GraphUser): Record<string, unknown> {
  const mapped = mapGraphUser(user);
  if (mapped.kind === 'skipped') return { ...user, email: null, skipReason: mapped.reason };
  const f = mapped.person.fields;
  return {
    ...user,
    email: mapped.person.email,
    phone: f.phone,
    givenName: f.givenName,
    surname: f.familyName,
    displayName: f.fullName,
    jobTitle: f.jobTitle,
    department: f.department,
    employeeId: f.employeeId,
  };
}
