import type { DocumentData, Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { tenantDocSchema, type TenantDoc } from '../store/tenants.js';

/**
 * Who may do what in a tenant: `tenants/{t}/members/{lowercased email}`. Owners and admins change things
 * (mappings, connection, sync now); viewers only read.
 */
export const ROLES = ['owner', 'admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const memberDocSchema = z.object({ email: z.string(), role: z.enum(ROLES) }).loose();

/**
 * A member document as access checks read it, or null when it grants nothing (edited by hand into another
 * shape). The team list uses the same reading, so it shows exactly who can get in.
 */
export function parseMemberDoc(data: unknown): z.infer<typeof memberDocSchema> | null {
  const parsed = memberDocSchema.safeParse(data);
  return parsed.success ? parsed.data : null;
}

export const canWrite = (role: Role) => role === 'owner' || role === 'admin';

/** What a route needs of the caller's role in its tenant (see `Access` in router.ts). */
export type RoleNeed = 'read' | 'write' | 'owner';

/** Why `role` is not enough for `need`, or null when it is. */
export function roleFallsShort(role: Role, need: RoleNeed): string | null {
  if (need === 'owner' && role !== 'owner') return 'only owners can manage the team';
  if (need === 'write' && !canWrite(role)) return 'only owners and admins can make changes';
  return null;
}

export const memberIdFor = (email: string) => email.trim().toLowerCase();

export interface TenantAccess {
  tenantId: string;
  role: Role;
  tenant: TenantDoc;
  raw: DocumentData;
}

/** The caller's role in a tenant, or null when the tenant does not exist or they are not a member. */
export async function tenantAccessFor(
  db: Firestore,
  tenantId: string,
  email: string,
): Promise<TenantAccess | null> {
  const [tenantSnap, memberSnap] = await db.getAll(
    db.doc(paths.tenant(tenantId)),
    db.doc(paths.member(tenantId, memberIdFor(email))),
  );
  if (!tenantSnap?.exists || !memberSnap?.exists) return null;
  const member = parseMemberDoc(memberSnap.data());
  const tenant = tenantDocSchema.safeParse(tenantSnap.data());
  if (!member || !tenant.success) return null;
  return { tenantId, role: member.role, tenant: tenant.data, raw: tenantSnap.data() ?? {} };
}

/** Every tenant the email is a member of (a collection-group query over `members`). */
export async function membershipsOf(
  db: Firestore,
  email: string,
): Promise<Array<{ tenantId: string; role: Role }>> {
  const snap = await db.collectionGroup('members').where('email', '==', memberIdFor(email)).get();
  const out: Array<{ tenantId: string; role: Role }> = [];
  for (const doc of snap.docs) {
    const tenantRef = doc.ref.parent.parent;
    // Only tenants/{t}/members/{email}; a `members` collection anywhere else grants nothing.
    if (!tenantRef || tenantRef.parent.id !== 'tenants' || tenantRef.parent.parent !== null) continue;
    if (doc.id !== memberIdFor(email)) continue;
    const member = parseMemberDoc(doc.data());
    if (member) out.push({ tenantId: tenantRef.id, role: member.role });
  }
  return out;
}
