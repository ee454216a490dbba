import { z } from 'zod';
import { listMembers, memberIdFor, putMember, removeMember, ROLES, type Role } from '../../store/members.js';
import { ApiError, notFound } from '../api-error.js';
import { json, type ApiResult } from '../http.js';
import { parseBody } from '../request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/**
 * The tenant's team: who may sign in to it and with what role. Owners (and the host product) manage it; every
 * member can see it. A tenant always keeps at least one owner (store/members.ts checks it in the transaction
 * that would take the last one away).
 */
export const MAX_MEMBERS_PER_TENANT = 100;

export const memberBody = z.strictObject({ role: z.enum(ROLES) });

const ROLE_ORDER: Record<Role, number> = { owner: 0, admin: 1, viewer: 2 };

const lastOwner = () =>
  new ApiError('failed_precondition', 'a tenant needs at least one owner: make someone else an owner first');

async function list(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const members = (await listMembers(ctx.app.db, tenantId)).sort(
    (a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.email.localeCompare(b.email),
  );
  const you = ctx.caller.kind === 'admin' ? memberIdFor(ctx.caller.identity.email) : null;
  return json(200, { members, you, maxMembers: MAX_MEMBERS_PER_TENANT });
}

/** PUT: adds the member, or changes their role. Idempotent: the same role again changes nothing. */
async function put(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const email = memberIdFor(ctx.params.memberEmail!);
  const { role } = parseBody(ctx.req, memberBody, { emptyAllowed: false });
  const by = actorOf(ctx.caller);
  const outcome = await putMember(ctx.app.db, tenantId, email, role, {
    now: new Date(ctx.app.clock.now()).toISOString(),
    by,
    maxMembers: MAX_MEMBERS_PER_TENANT,
  });
  if (outcome.status === 'too_many')
    throw new ApiError('conflict', `a tenant can have at most ${MAX_MEMBERS_PER_TENANT} members`);
  if (outcome.status === 'last_owner') throw lastOwner();
  if (outcome.status === 'added') ctx.log.info('member added', { tenantId, member: email, role, by });
  if (outcome.status === 'changed') {
    ctx.log.info('member role changed', { tenantId, member: email, from: outcome.from, to: role, by });
  }
  return json(outcome.status === 'added' ? 201 : 200, { ...outcome.member, result: outcome.status });
}

async function remove(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const email = memberIdFor(ctx.params.memberEmail!);
  const outcome = await removeMember(ctx.app.db, tenantId, email);
  if (outcome === 'not_found') throw notFound('member not found');
  if (outcome === 'last_owner') throw lastOwner();
  ctx.log.info('member removed', { tenantId, member: email, by: actorOf(ctx.caller) });
  return json(200, { email, removed: true });
}

const base = '/api/tenants/:tenantId/members';
export const memberRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: base,
    access: { kind: 'tenant', need: 'read', allowHost: true },
    handle: list,
    doc: {
      summary: "The tenant's team, owners first",
      responses: {
        200: {
          description: '`members`, `you` (the caller, null for the host product) and `maxMembers`.',
          schema: z.object({
            members: z.array(z.object({ email: z.string(), role: z.enum(ROLES) }).loose()),
            you: z.string().nullable(),
            maxMembers: z.number(),
          }),
        },
      },
    },
  },
  {
    method: 'PUT',
    pattern: `${base}/:memberEmail`,
    access: { kind: 'tenant', need: 'owner', allowHost: true },
    handle: put,
    doc: {
      summary: "Add a member, or change a member's role",
      description: 'The last owner cannot be demoted (409 `failed_precondition`); at most 100 members (409).',
      body: memberBody,
      responses: {
        201: { description: 'Added (`result: "added"`).' },
        200: { description: 'Role changed or unchanged (`result: "changed"` / `"unchanged"`).' },
      },
    },
  },
  {
    method: 'DELETE',
    pattern: `${base}/:memberEmail`,
    access: { kind: 'tenant', need: 'owner', allowHost: true },
    handle: remove,
    doc: {
      summary: 'Remove a member',
      description: 'The last owner cannot be removed (409 `failed_precondition`).',
      responses: {
        200: { description: 'Removed.', schema: z.object({ email: z.string(), removed: z.literal(true) }) },
      },
    },
  },
];
