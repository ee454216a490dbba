import type { DocumentData, DocumentSnapshot, Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { tenantDocSchema, type TenantDoc } from './tenants.js';

/**
 * Who may do what in a tenant: `tenants/{t}/members/{lowercased email}`, `{ email, role, addedAt, addedBy,
 * updatedAt, updatedBy }`. Owners and admins change things (mappings, connection, sync now); viewers only read.
 */
export const ROLES = ['owner', 'admin', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const memberDocSchema = z.object({ email: z.string(), role: z.enum(ROLES) }).loose();
export type MemberDoc = z.infer<typeof memberDocSchema>;

/**
 * A member document as access checks read it, or null when it grants nothing (edited by hand into another
 * shape). The team list uses the same reading, so it shows exactly who can get in.
 */
export function parseMemberDoc(data: unknown): MemberDoc | null {
  const parsed = memberDocSchema.safeParse(data);
  return parsed.success ? parsed.data : null;
}

/** Member documents are keyed by the email, trimmed and lowercased, so case does not matter. */
export const memberIdFor = (email: string) => email.trim().toLowerCase();

/** A member as the team list shows it; `email` is the document id. */
export interface Member {
  email: string;
  role: Role;
  addedAt: string | null;
  addedBy: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** Null for a document that grants nothing, which is then not listed either. */
function memberOf(id: string, data: DocumentData | undefined): Member | null {
  const member = parseMemberDoc(data);
  if (!member) return null;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    email: id,
    role: member.role,
    addedAt: str(member.addedAt),
    addedBy: str(member.addedBy),
    updatedAt: str(member.updatedAt),
    updatedBy: str(member.updatedBy),
  };
}

export interface TenantAccess {
  tenantId: string;
  role: Role;
  tenant: TenantDoc;
  raw: DocumentData;
}

/** The email's role in a tenant, with the tenant, or null when the tenant does not exist or they are not a member. */
export async function readTenantAccess(
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
export async function listMembershipsOf(
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

/** The tenant's members whose documents grant something, in no particular order. */
export async function listMembers(db: Firestore, tenantId: string): Promise<Member[]> {
  const snap = await db.collection(paths.members(tenantId)).get();
  return snap.docs.map((d) => memberOf(d.id, d.data())).filter((m): m is Member => m !== null);
}

const ownersIn = (docs: DocumentSnapshot[]) =>
  docs.filter((d) => parseMemberDoc(d.data())?.role === 'owner').map((d) => d.id);

export type PutMemberOutcome =
  | { status: 'added' | 'changed' | 'unchanged'; member: Member; from: Role | undefined }
  | { status: 'too_many' }
  | { status: 'last_owner' };

/**
 * Adds the member or changes their role, in one transaction over the whole team: it counts the members and
 * keeps at least one owner, so two owners demoting each other at once cannot leave the tenant ownerless.
 */
export async function putMember(
  db: Firestore,
  tenantId: string,
  email: string,
  role: Role,
  opts: { now: string; by: string; maxMembers: number },
): Promise<PutMemberOutcome> {
  const id = memberIdFor(email);
  const ref = db.doc(paths.member(tenantId, id));
  return db.runTransaction(async (tx): Promise<PutMemberOutcome> => {
    const all = await tx.get(db.collection(paths.members(tenantId)));
    const current = all.docs.find((d) => d.id === id);
    const currentRole = current ? parseMemberDoc(current.data())?.role : undefined;
    if (current && currentRole === role)
      return { status: 'unchanged', member: memberOf(id, current.data())!, from: currentRole };
    if (!current && all.size >= opts.maxMembers) return { status: 'too_many' };
    if (currentRole === 'owner' && role !== 'owner' && ownersIn(all.docs).length <= 1)
      return { status: 'last_owner' };
    const data = current
      ? { ...current.data(), email: id, role, updatedAt: opts.now, updatedBy: opts.by }
      : { email: id, role, addedAt: opts.now, addedBy: opts.by };
    tx.set(ref, data);
    return { status: current ? 'changed' : 'added', member: memberOf(id, data)!, from: currentRole };
  });
}

/** Removes the member unless they are the last owner; checked in the same transaction as the delete. */
export async function removeMember(
  db: Firestore,
  tenantId: string,
  email: string,
): Promise<'removed' | 'not_found' | 'last_owner'> {
  const id = memberIdFor(email);
  return db.runTransaction(async (tx) => {
    const all = await tx.get(db.collection(paths.members(tenantId)));
    const current = all.docs.find((d) => d.id === id);
    if (!current) return 'not_found';
    const owners = ownersIn(all.docs);
    if (owners.length === 1 && owners[0] === id) return 'last_owner';
    tx.delete(current.ref);
    return 'removed';
  });
}
