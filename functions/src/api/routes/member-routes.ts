import type { DocumentData, DocumentSnapshot } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../../shared/firestore-paths.js';
import { ApiError, notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { ROLES, memberIdFor, parseMemberDoc, type Role } from '../membership.js';
import { parseBody } from '../request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/**
 * The tenant's team: who may sign in to it and with what role. Owners (and the host product) manage it; every
 * member can see it. A tenant always keeps at least one owner, checked in the same transaction that would take
 * the last one away, so two owners demoting each other at once cannot leave it ownerless.
 */
export const MAX_MEMBERS_PER_TENANT = 100;

const memberBody = z.strictObject({ role: z.enum(ROLES) });

const ROLE_ORDER: Record<Role, number> = { owner: 0, admin: 1, viewer: 2 };

interface MemberView {
  email: string;
  role: Role;
  addedAt: string | null;
  addedBy: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** Null for a document that grants nothing, which is then not listed either. */
function memberView(id: string, data: DocumentData | undefined): MemberView | null {
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

const ownersIn = (docs: DocumentSnapshot[]) =>
  docs.filter((d) => parseMemberDoc(d.data())?.role === 'owner').map((d) => d.id);

const lastOwner = () =>
  new ApiError('failed_precondition', 'a tenant needs at least one owner: make someone else an owner first');

async function list(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const snap = await ctx.app.db.collection(paths.members(tenantId)).get();
  const members = snap.docs
    .map((d) => memberView(d.id, d.data()))
    .filter((m): m is MemberView => m !== null)
    .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.email.localeCompare(b.email));
  const you = ctx.caller.kind === 'admin' ? memberIdFor(ctx.caller.identity.email) : null;
  return json(200, { members, you, maxMembers: MAX_MEMBERS_PER_TENANT });
}

/** PUT: adds the member, or changes their role. Idempotent: the same role again changes nothing. */
async function put(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const email = memberIdFor(ctx.params.memberEmail!);
  const { role } = parseBody(ctx.req, memberBody, { emptyAllowed: false });
  const db = ctx.app.db;
  const ref = db.doc(paths.member(tenantId, email));
  const now = new Date(ctx.app.clock.now()).toISOString();
  const by = actorOf(ctx.caller);
  const outcome = await db.runTransaction(async (tx) => {
    const all = await tx.get(db.collection(paths.members(tenantId)));
    const current = all.docs.find((d) => d.id === email);
    const currentRole = current ? parseMemberDoc(current.data())?.role : undefined;
    if (current && currentRole === role) return { status: 'unchanged' as const, data: current.data() };
    if (!current && all.size >= MAX_MEMBERS_PER_TENANT) {
      throw new ApiError('conflict', `a tenant can have at most ${MAX_MEMBERS_PER_TENANT} members`);
    }
    if (currentRole === 'owner' && role !== 'owner' && ownersIn(all.docs).length <= 1) throw lastOwner();
    const data = current
      ? { ...current.data(), email, role, updatedAt: now, updatedBy: by }
      : { email, role, addedAt: now, addedBy: by };
    tx.set(ref, data);
    return { status: current ? ('changed' as const) : ('added' as const), data, from: currentRole };
  });
  if (outcome.status === 'added') ctx.log.info('member added', { tenantId, member: email, role, by });
  if (outcome.status === 'changed') {
    ctx.log.info('member role changed', { tenantId, member: email, from: outcome.from, to: role, by });
  }
  return json(outcome.status === 'added' ? 201 : 200, {
    ...memberView(email, outcome.data),
    result: outcome.status,
  });
}

async function remove(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const email = memberIdFor(ctx.params.memberEmail!);
  const db = ctx.app.db;
  await db.runTransaction(async (tx) => {
    const all = await tx.get(db.collection(paths.members(tenantId)));
    const current = all.docs.find((d) => d.id === email);
    if (!current) throw notFound('member not found');
    const owners = ownersIn(all.docs);
    if (owners.length === 1 && owners[0] === email) throw lastOwner();
    tx.delete(current.ref);
  });
  ctx.log.info('member removed', { tenantId, member: email, by: actorOf(ctx.caller) });
  return json(200, { email, removed: true });
}

const base = '/api/tenants/:tenantId/members';
export const memberRoutes: Array<Route<RouteContext>> = [
  { method: 'GET', pattern: base, access: { kind: 'tenant', need: 'read', allowHost: true }, handle: list },
  {
    method: 'PUT',
    pattern: `${base}/:memberEmail`,
    access: { kind: 'tenant', need: 'owner', allowHost: true },
    handle: put,
  },
  {
    method: 'DELETE',
    pattern: `${base}/:memberEmail`,
    access: { kind: 'tenant', need: 'owner', allowHost: true },
    handle: remove,
  },
];
