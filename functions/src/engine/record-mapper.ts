import { entityOf, loginUsersOwner } from '../../../shared/mapping.js';
import type { LoginUsersCandidate, MappingInput } from '../../../shared/mapping.js';
import { personRecordId } from '../people/person-record-id.js';
import { contentHash } from './content-hash.js';
import { recordIdFor } from './record-id.js';

export type RecordStatus = 'active' | 'inactive';

export interface MappedRecord {
  recordId: string;
  sourceId: string;
  identifierValue: string;
  status: RecordStatus;
  inactiveReason: string | null;
  /** The record body as written (without the bookkeeping `_sync` block). */
  data: Record<string, unknown>;
  hash: string;
  /**
   * The mapping the record is written for when that is not the running one: a login user that another
   * login-users mapping owns, written as that mapping would write it (see mapLoginUser).
   */
  mappingId?: string;
}

export type MapOutcome =
  | { kind: 'record'; record: MappedRecord }
  | { kind: 'out_of_scope' }
  | { kind: 'skipped'; reason: string; sourceId: string }
  /** A login user that a more specific login-users mapping owns; `record` is as that mapping maps it. */
  | { kind: 'claimed'; by: string; record: MappedRecord };

type MappingForSync = Pick<MappingInput, 'entity' | 'identifier' | 'target' | 'fieldMap' | 'orgUnitScope'> &
  Partial<Pick<MappingInput, 'source'>>;

/** Reads a dotted path (`name.givenName`, `customSchemas.EmployeeData.grade`); absent -> null. */
export function readPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return null;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined ? null : cur;
}

export function inOrgUnitScope(path: unknown, scope: MappingForSync['orgUnitScope']): boolean {
  if (!scope) return true;
  if (typeof path !== 'string') return false;
  return scope.paths.some((p) => {
    if (path === p) return true;
    if (!scope.includeChildren) return false;
    return p === '/' || path.startsWith(`${p.replace(/\/+$/, '')}/`);
  });
}

function statusOf(mapping: MappingForSync, src: Record<string, unknown>): [RecordStatus, string | null] {
  const entity = mapping.entity;
  if (mapping.source === 'entra') {
    // accountEnabled is only absent when not selected; treating that as enabled avoids mass-deactivating people.
    return src.accountEnabled === false ? ['inactive', 'disabled'] : ['active', null];
  }
  if (entity === 'users') {
    if (src.suspended === true) return ['inactive', 'suspended'];
    if (src.archived === true) return ['inactive', 'archived'];
  }
  if (entity === 'chromeos' && (src.status === 'DEPROVISIONED' || src.status === 'DISABLED')) {
    return ['inactive', String(src.status).toLowerCase()];
  }
  return ['active', null];
}

/** Applies a mapping to one source object: scope check, identifier, field map, status. Pure. */
export function mapSourceObject(mapping: MappingForSync, src: Record<string, unknown>): MapOutcome {
  const entity = entityOf(mapping);
  const sourceId = String(src[entity.sourceIdField] ?? '');
  // Users, Chrome OS devices and org units carry orgUnitPath (an org unit its own), so one scope rule serves
  // them; shared/mapping.ts refuses a scope on entities without one (groups, mobile devices, Entra users).
  if (!inOrgUnitScope(src.orgUnitPath, mapping.orgUnitScope)) return { kind: 'out_of_scope' };
  const rawId = readPath(src, mapping.identifier);
  if (rawId === null || rawId === '' || typeof rawId === 'object') {
    return { kind: 'skipped', reason: `no ${mapping.identifier}`, sourceId };
  }
  const identifierValue = String(rawId);
  const data: Record<string, unknown> = {};
  // A 'none' field is kept in the mapping but not synced.
  for (const f of mapping.fieldMap) if (f.direction !== 'none') data[f.target] = readPath(src, f.source);
  const [status, inactiveReason] = statusOf(mapping, src);
  if (mapping.target.kind === 'loginUsers') {
    // A login user is a person who can sign in to the host product: suspended or archived means not now.
    data.email = String(src.primaryEmail ?? identifierValue).toLowerCase();
    data.role = mapping.target.role;
    data.active = status === 'active';
  }
  const hash = contentHash({ data, status, inactiveReason, sourceId });
  // A person's id is the merge key every source computes the same way (see people-store).
  const recordId =
    mapping.target.kind === 'people'
      ? personRecordId(identifierValue)
      : recordIdFor(mapping.identifier, identifierValue);
  return {
    kind: 'record',
    record: { recordId, sourceId, identifierValue, status, inactiveReason, data, hash },
  };
}

/** The tenant's login-users mappings a login-users sync weighs a user against (shared/mapping.ts loginUsersOwner). */
export interface LoginUsersOwnership {
  selfId: string;
  mappings: ReadonlyArray<LoginUsersCandidate & MappingForSync>;
}

/**
 * Maps a user for a login-users mapping that shares login users with others: the user is this mapping's when it
 * is the most specific one taking the user in; another's (`claimed`, mapped as that mapping maps it) when a more
 * specific one does; out of scope when none does. Pure.
 */
export function mapLoginUser(
  mapping: MappingForSync,
  ownership: LoginUsersOwnership,
  src: Record<string, unknown>,
): MapOutcome {
  const owner = loginUsersOwner(ownership.mappings, src.orgUnitPath);
  if (!owner || owner.id === ownership.selfId) return mapSourceObject(mapping, src);
  const outcome = mapSourceObject(owner, src);
  if (outcome.kind !== 'record') return outcome;
  return { kind: 'claimed', by: owner.id, record: { ...outcome.record, mappingId: owner.id } };
}
