import { readTenantAccess, type Role } from '../store/members.js';
import type { Db } from '../store/firestore.js';

/**
 * What each role may do in a tenant. Owners and admins change things (mappings, connection, sync now); viewers
 * only read. The member documents themselves are store/members.ts.
 */
export const canWrite = (role: Role) => role === 'owner' || role === 'admin';

/** What a route needs of the caller's role in its tenant (see `Access` in router.ts). */
export type RoleNeed = 'read' | 'write' | 'owner';

/** Why `role` is not enough for `need`, or null when it is. */
export function roleFallsShort(role: Role, need: RoleNeed): string | null {
  if (need === 'owner' && role !== 'owner') return 'only owners can manage the team and the tenant settings';
  if (need === 'write' && !canWrite(role)) return 'only owners and admins can make changes';
  return null;
}

/**
 * Whether the email may still manage the tenant (owner or admin): the connect callbacks ask again when the
 * browser comes back, since the admin's role may have changed meanwhile.
 */
export async function canManageTenant(db: Db, tenantId: string, email: string): Promise<boolean> {
  const access = await readTenantAccess(db, tenantId, email);
  return access !== null && canWrite(access.role);
}
