import type { Mapping } from '../../../../shared/mapping.js';
import { inOrgUnitScope } from '../../engine/record-mapper.js';
import type { DirectoryLister, ListRequest } from './directory-lister.js';

/**
 * How a full Directory pass splits into disjoint listings that can run at once (engine/partitioned-pass.ts).
 *
 * Chrome OS devices: one partition per org unit, `orgUnitPath=<id>` with `includeChildOrgunits=false`, which
 * lists exactly the devices directly in that unit; every device is in exactly one unit, so the units of the
 * tree (orgunits.list type=all, plus the root) cover every device. A scoped mapping lists only its units.
 *
 * Users: users.list has no exact org-unit filter (`orgUnitPath='/x'` matches the subtree, and users directly in
 * the root cannot be asked for), so an unscoped mapping splits by the first character of the email address:
 * `email:a*` … Every Google username starts with a letter, a digit or one of `_ - . '`, so the prefixes cover
 * everyone; a prefix also matches aliases, which only makes an object appear twice (the engine keeps one).
 *
 * Either way the engine does not take the partitions' word for an absence: it reads each absentee back
 * (recheck) before it may be removed.
 */

/** More org units than this and the per-unit requests (most of them empty pages) cost more than they save. */
const MAX_ORG_UNIT_PARTITIONS = 500;

const EMAIL_FIRST_CHARACTERS = [...'abcdefghijklmnopqrstuvwxyz0123456789', '_', '-', '.', "'"];

/** users.list `query` for one email first character (quoted: `'` and `.` are not plain search words). */
function emailPrefixQuery(c: string): string {
  return c === "'" ? `email:"'"*` : `email:'${c}'*`;
}

export async function directoryPartitions(
  lister: DirectoryLister,
  mapping: Mapping,
  call: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<string[] | null> {
  const scope = mapping.orgUnitScope;
  if (mapping.entity === 'users') {
    // Scoped or not, users are listed whole and the scope filter applied to them, as in a sequential pass,
    // so that the run still counts who is out of scope.
    return EMAIL_FIRST_CHARACTERS.map((c) => `email:${c}`);
  }
  if (mapping.entity !== 'chromeos') return null;
  const tree = await call(() =>
    lister.listPage({
      entity: 'orgunits',
      pageToken: null,
      sourcePaths: ['orgUnitId', 'orgUnitPath', 'parentOrgUnitId', 'parentOrgUnitPath'],
    }),
  );
  const units: Array<{ id: string; path: string }> = [];
  let rootId: string | null = null;
  for (const ou of tree.items) {
    if (typeof ou.orgUnitId === 'string' && typeof ou.orgUnitPath === 'string')
      units.push({ id: ou.orgUnitId, path: ou.orgUnitPath });
    // The root is not in its own list (type=all); its id is the parent of the top-level units.
    if (ou.parentOrgUnitPath === '/' && typeof ou.parentOrgUnitId === 'string') rootId = ou.parentOrgUnitId;
  }
  // Without an org unit below the root every device is in the root: one listing is all there is.
  if (rootId === null) return null;
  units.push({ id: rootId, path: '/' });
  const inScope = units.filter((u) => inOrgUnitScope(u.path, scope));
  if (inScope.length > MAX_ORG_UNIT_PARTITIONS) return null;
  return inScope.map((u) => `ou:${u.id}`);
}

/**
 * A partition's key walked from its other end: `email:a` <-> `email-desc:a`, `ou:<id>` <-> `ou-desc:<id>`.
 * Each is sorted on a unique key (users by primary email; devices by serial number), one ascending and the
 * other descending, so the two walks list the partition in exactly reverse orders.
 */
export function reversePartitionKey(key: string): string | null {
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  if (kind === 'email' || kind === 'ou') return `${kind}-desc${key.slice(colon)}`;
  return null;
}

/** The list request of one partition key (see directoryPartitions and reversePartitionKey). */
export function partitionRequest(
  key: string,
): Pick<ListRequest, 'query' | 'orgUnitPath' | 'includeChildOrgunits' | 'order'> {
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  const value = key.slice(colon + 1);
  const descending = kind.endsWith('-desc');
  switch (descending ? kind.slice(0, -'-desc'.length) : kind) {
    case 'email':
      return { query: emailPrefixQuery(value), order: { by: 'email', descending } };
    case 'ou':
      // An org unit's id, not its path: a unit renamed during the pass is still the same partition. Serial
      // numbers are unique in practice; where two devices share one, Google's tie-break may differ between the
      // two directions, and the read-back of absentees (engine/partitioned-pass.ts) is what keeps that safe.
      return {
        orgUnitPath: value,
        includeChildOrgunits: false,
        order: { by: 'serialNumber', descending },
      };
    default:
      throw new Error(`unknown Directory partition ${key}`);
  }
}
