import type { DocumentData, Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { tenantDocSchema, type TenantDoc } from '../tenants/tenant-status.js';

/**
 * Who may do what in a tenant: `tenants/{t}/members/{lowercased email}`. Owners and admins change things
 * (mappings, connection, sync now); viewers only read.
 */
export const ROLES = ['owner', 'admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const memberDocSchema = z.object({ email: z.string(), role: z.enum(ROLES) }).loose();

export const canWrite = (role: Role) => role === 'owner' || role === 'admin';

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
  const member = memberDocSchema.safeParse(memberSnap.data());
  const tenant = tenantDocSchema.safeParse(tenantSnap.data());
  if (!member.success || !tenant.success) return null;
  return { tenantId, role: member.data.role, tenant: tenant.data, raw: tenantSnap.data() ?? {} };
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
    const member = memberDocSchema.safeParse(doc.data());
    if (member.success) out.push({ tenantId: tenantRef.id, role: member.data.role });
  }
  return out;
}
