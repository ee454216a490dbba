import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import {
  addUserInputSchema,
  consentDecisionInputSchema,
  consentInputSchema,
  createTenantInputSchema,
  deltaChangesInputSchema,
  faultInputSchema,
  registerAppInputSchema,
  updateUserInputSchema,
} from './control-schemas.js';
import { ControlError, GraphDirectory, type UserEntry } from './graph-directory.js';
import { readBody } from './http-io.js';
import { emptyStats, type Reply, type SimulatorContext } from './simulator-context.js';

async function jsonBody<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const raw = await readBody(req);
  let parsed: unknown;
  try {
    parsed = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    throw new ControlError(400, 'invalidJson', 'request body is not valid JSON');
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new ControlError(400, 'invalidArgument', z.prettifyError(result.error));
  return result.data;
}

const ok = (body: unknown, status = 200): Reply => ({ kind: 'json', status, body });
const userView = (entry: UserEntry) => GraphDirectory.controlUser(entry);

type Handler = (
  ctx: SimulatorContext,
  req: IncomingMessage,
  params: string[],
  query: URLSearchParams,
) => Promise<Reply>;

const routes: { method: string; pattern: RegExp; handler: Handler }[] = [
  {
    method: 'POST',
    pattern: /^\/_control\/reset$/,
    handler: async (ctx) => {
      ctx.directory.reset();
      ctx.faults.clear();
      ctx.faults.resetCounters();
      ctx.stats = emptyStats();
      return ok({ reset: true });
    },
  },
  {
    method: 'GET',
    pattern: /^\/_control\/stats$/,
    handler: async (ctx) => ok({ ...ctx.stats, faultsFired: { ...ctx.faults.fired } }),
  },
  {
    method: 'DELETE',
    pattern: /^\/_control\/stats$/,
    handler: async (ctx) => {
      ctx.stats = emptyStats();
      ctx.faults.resetCounters();
      return ok({ reset: true });
    },
  },
  {
    method: 'POST',
    pattern: /^\/_control\/apps$/,
    handler: async (ctx, req) =>
      ok(ctx.directory.registerApp(await jsonBody(req, registerAppInputSchema)), 201),
  },
  {
    method: 'POST',
    pattern: /^\/_control\/tenants$/,
    handler: async (ctx, req) => {
      const tenant = ctx.directory.createTenant(await jsonBody(req, createTenantInputSchema));
      return ok(ctx.directory.tenantView(tenant), 201);
    },
  },
  {
    method: 'GET',
    pattern: /^\/_control\/tenants\/([^/]+)$/,
    handler: async (ctx, _req, [tenantId = '']) =>
      ok(ctx.directory.tenantView(ctx.directory.requireTenant(tenantId))),
  },
  {
    method: 'GET',
    pattern: /^\/_control\/tenants\/([^/]+)\/users$/,
    handler: async (ctx, _req, [tenantId = ''], query) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      const includeDeleted = query.get('includeDeleted') === 'true';
      const users = [...tenant.entries.values()]
        .filter((e) => e.state === 'active' || (includeDeleted && e.state === 'softDeleted'))
        .sort((a, b) => (a.user.id < b.user.id ? -1 : 1))
        .map(userView);
      return ok({ users });
    },
  },
  {
    method: 'POST',
    pattern: /^\/_control\/tenants\/([^/]+)\/users$/,
    handler: async (ctx, req, [tenantId = '']) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      return ok(userView(ctx.directory.addUser(tenant, await jsonBody(req, addUserInputSchema))), 201);
    },
  },
  {
    method: 'GET',
    pattern: /^\/_control\/tenants\/([^/]+)\/users\/([^/]+)$/,
    handler: async (ctx, _req, [tenantId = '', id = '']) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      return ok(userView(ctx.directory.requireUser(tenant, id, ['active', 'softDeleted'])));
    },
  },
  {
    method: 'PATCH',
    pattern: /^\/_control\/tenants\/([^/]+)\/users\/([^/]+)$/,
    handler: async (ctx, req, [tenantId = '', id = '']) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      return ok(userView(ctx.directory.updateUser(tenant, id, await jsonBody(req, updateUserInputSchema))));
    },
  },
  {
    method: 'POST',
    pattern: /^\/_control\/tenants\/([^/]+)\/users\/([^/]+)\/(disable|enable)$/,
    handler: async (ctx, _req, [tenantId = '', id = '', action]) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      return ok(userView(ctx.directory.updateUser(tenant, id, { accountEnabled: action === 'enable' })));
    },
  },
  {
    method: 'POST',
    pattern: /^\/_control\/tenants\/([^/]+)\/users\/([^/]+)\/restore$/,
    handler: async (ctx, _req, [tenantId = '', id = '']) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      return ok(userView(ctx.directory.restore(tenant, id)));
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/_control\/tenants\/([^/]+)\/users\/([^/]+)$/,
    handler: async (ctx, _req, [tenantId = '', id = ''], query) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      if (query.get('permanent') === 'true') {
        ctx.directory.hardDelete(tenant, id);
        return ok({ id, state: 'hardDeleted' });
      }
      return ok(userView(ctx.directory.softDelete(tenant, id)));
    },
  },
  {
    method: 'POST',
    pattern: /^\/_control\/tenants\/([^/]+)\/consent$/,
    handler: async (ctx, req, [tenantId = '']) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      const { clientId } = await jsonBody(req, consentInputSchema);
      if (!ctx.directory.apps.has(clientId))
        throw new ControlError(404, 'notFound', `app ${clientId} is not registered`);
      tenant.consents.add(clientId);
      return ok(ctx.directory.tenantView(tenant));
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/_control\/tenants\/([^/]+)\/consent\/([^/]+)$/,
    handler: async (ctx, _req, [tenantId = '', clientId = '']) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      ctx.directory.revokeConsent(tenant, clientId);
      return ok(ctx.directory.tenantView(tenant));
    },
  },
  {
    method: 'PUT',
    pattern: /^\/_control\/tenants\/([^/]+)\/consent-decision$/,
    handler: async (ctx, req, [tenantId = '']) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      tenant.consentDecision = (await jsonBody(req, consentDecisionInputSchema)).decision;
      return ok(ctx.directory.tenantView(tenant));
    },
  },
  {
    method: 'PUT',
    pattern: /^\/_control\/tenants\/([^/]+)\/delta-changes$/,
    handler: async (ctx, req, [tenantId = '']) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      tenant.deltaChanges = (await jsonBody(req, deltaChangesInputSchema)).mode;
      return ok(ctx.directory.tenantView(tenant));
    },
  },
  {
    method: 'POST',
    pattern: /^\/_control\/tenants\/([^/]+)\/delta-tokens\/expire$/,
    handler: async (ctx, _req, [tenantId = '']) => {
      const tenant = ctx.directory.requireTenant(tenantId);
      tenant.deltaEpoch++;
      return ok({ expired: true });
    },
  },
  {
    method: 'GET',
    pattern: /^\/_control\/faults$/,
    handler: async (ctx) => ok({ faults: ctx.faults.list() }),
  },
  {
    method: 'POST',
    pattern: /^\/_control\/faults$/,
    handler: async (ctx, req) => ok(ctx.faults.add(await jsonBody(req, faultInputSchema)), 201),
  },
  {
    method: 'DELETE',
    pattern: /^\/_control\/faults$/,
    handler: async (ctx) => {
      ctx.faults.clear();
      return ok({ cleared: true });
    },
  },
];

/** `/_control/*`: JSON in, JSON out, every body validated with the schemas GraphSimulatorControl also uses. */
export async function handleControl(ctx: SimulatorContext, req: IncomingMessage, url: URL): Promise<Reply> {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(url.pathname);
    if (!match) continue;
    pathMatched = true;
    if (route.method !== req.method) continue;
    const params = match.slice(1).map((p) => decodeURIComponent(p ?? ''));
    return route.handler(ctx, req, params, url.searchParams);
  }
  if (pathMatched)
    throw new ControlError(405, 'methodNotAllowed', `${req.method} is not supported on ${url.pathname}`);
  throw new ControlError(404, 'notFound', `no control endpoint ${url.pathname}`);
}
