import {
  bulkRenameSchema,
  chromeOsUpdateSchema,
  consentDecisionSchema,
  expireTokenSchema,
  faultsSchema,
  issueTokenSchema,
  mobileUpdateSchema,
  newChromeOsSchema,
  newMobileSchema,
  newOrgUnitSchema,
  newUserSchema,
  oauthClientSchema,
  orgUnitUpdateSchema,
  quotaSchema,
  seedSpecSchema,
  undeleteUserSchema,
  userUpdateSchema,
} from './control-schemas.js';
import { renderChromeOs, renderMobile } from './device-resources.js';
import { renderOrgUnit } from './directory-handlers.js';
import { GROUP_ROUTES } from './control-group-routes.js';
import { WATCH_CONTROL_ROUTES } from './watch-control-routes.js';
import { SERVICE_ACCOUNT_CONTROL_ROUTES } from './service-account-control-routes.js';
import type { Route } from './control-http.js';
import { ControlError, parseBody, requireWorkspace, SEG } from './control-http.js';
import { isLoopbackAddress, sendJson } from './http-util.js';
import { DEFAULT_OAUTH_CLIENT } from './oauth-state.js';
import type { RouteHandler } from './request-context.js';
import { normalizeScope } from './scopes.js';
import { renderUser } from './user-resource.js';
import type { Workspace } from './workspace.js';
import { WorkspaceError } from './workspace.js';

const PREFIX = '/_control/';

export interface WorkspaceSummary {
  customerId: string;
  domain: string;
  adminEmail: string;
  adminUserId: string;
  seed: number;
  users: number;
  deletedUsers: number;
  chromeos: number;
  mobile: number;
  orgUnits: number;
  groups: number;
}

function summarize(ws: Workspace): WorkspaceSummary {
  const admin = ws.findUser(ws.adminUserId, { includeDeleted: true });
  let deleted = 0;
  for (const u of ws.userView('id', false).items) if (u.deletionTime !== undefined) deleted++;
  return {
    customerId: ws.customerId,
    domain: ws.domain,
    adminEmail: admin?.primaryEmail ?? '',
    adminUserId: ws.adminUserId,
    seed: ws.seed,
    users: ws.userCount - deleted,
    deletedUsers: deleted,
    chromeos: ws.chromeOsCount,
    mobile: ws.mobileCount,
    orgUnits: ws.allOrgUnits().length,
    groups: ws.groups.count,
  };
}

const ROUTES: Route[] = [
  ...GROUP_ROUTES,
  ...WATCH_CONTROL_ROUTES,
  ...SERVICE_ACCOUNT_CONTROL_ROUTES,
  {
    method: 'POST',
    pattern: /^workspaces$/,
    handle: async (ctx) => {
      const ws = ctx.state.createWorkspace(await parseBody(ctx, seedSpecSchema));
      const s = summarize(ws);
      return { customerId: s.customerId, domain: s.domain, adminEmail: s.adminEmail };
    },
  },
  {
    method: 'GET',
    pattern: /^workspaces$/,
    handle: async (ctx) => ({ workspaces: ctx.state.allWorkspaces().map(summarize) }),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^workspaces/${SEG}$`),
    handle: async (ctx, [ref]) => summarize(requireWorkspace(ctx.state, ref ?? '')),
  },
  {
    method: 'POST',
    pattern: new RegExp(`^workspaces/${SEG}/users$`),
    handle: async (ctx, [ref]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderUser(ws, ws.addUser(await parseBody(ctx, newUserSchema)), { projection: 'full' });
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^workspaces/${SEG}/users/${SEG}$`),
    handle: async (ctx, [ref, key]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      const user = ws.findUser(key ?? '', { includeDeleted: true });
      if (!user) throw new ControlError(404, `user not found: ${key}`);
      return renderUser(ws, user, { projection: 'full' });
    },
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^workspaces/${SEG}/users/${SEG}$`),
    handle: async (ctx, [ref, key]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderUser(ws, ws.updateUser(key ?? '', await parseBody(ctx, userUpdateSchema)), {
        projection: 'full',
      });
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^workspaces/${SEG}/users/${SEG}$`),
    handle: async (ctx, [ref, key]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderUser(ws, ws.deleteUser(key ?? ''), { projection: 'full' });
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^workspaces/${SEG}/users/${SEG}/(suspend|unsuspend|archive|unarchive|undelete)$`),
    handle: async (ctx, [ref, key, action]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      const k = key ?? '';
      const user =
        action === 'suspend'
          ? ws.setSuspended(k, true)
          : action === 'unsuspend'
            ? ws.setSuspended(k, false)
            : action === 'archive'
              ? ws.setArchived(k, true)
              : action === 'unarchive'
                ? ws.setArchived(k, false)
                : ws.undeleteUser(k, await parseBody(ctx, undeleteUserSchema));
      return renderUser(ws, user, { projection: 'full' });
    },
  },
  {
    method: 'POST',
    pattern: /^users\/bulk-rename$/,
    handle: async (ctx) => {
      const input = await parseBody(ctx, bulkRenameSchema);
      const ws = input.workspace ? requireWorkspace(ctx.state, input.workspace) : ctx.state.latestWorkspace();
      if (!ws) throw new ControlError(404, 'no workspace exists');
      return { customerId: ws.customerId, renamed: ws.bulkRename(input.count).length };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^workspaces/${SEG}/orgunits$`),
    handle: async (ctx, [ref]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderOrgUnit(ws, ws.addOrgUnit(await parseBody(ctx, newOrgUnitSchema)));
    },
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^workspaces/${SEG}/orgunits$`),
    handle: async (ctx, [ref]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderOrgUnit(ws, ws.updateOrgUnit(await parseBody(ctx, orgUnitUpdateSchema)));
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^workspaces/${SEG}/chromeos$`),
    handle: async (ctx, [ref]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderChromeOs(ws, ws.addChromeOs(await parseBody(ctx, newChromeOsSchema)), 'FULL');
    },
  },
  {
    // Device state as the API would serve it (FULL), without a token: tests check writes through this.
    method: 'GET',
    pattern: new RegExp(`^workspaces/${SEG}/chromeos/${SEG}$`),
    handle: async (ctx, [ref, id]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      const device = ws.findChromeOs(id ?? '');
      if (!device) throw new ControlError(404, `chromeos device not found: ${id}`);
      return renderChromeOs(ws, device, 'FULL');
    },
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^workspaces/${SEG}/chromeos/${SEG}$`),
    handle: async (ctx, [ref, id]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderChromeOs(
        ws,
        ws.updateChromeOs(id ?? '', await parseBody(ctx, chromeOsUpdateSchema)),
        'FULL',
      );
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^workspaces/${SEG}/chromeos/${SEG}$`),
    handle: async (ctx, [ref, id]) => {
      requireWorkspace(ctx.state, ref ?? '').removeChromeOs(id ?? '');
      return { removed: id };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^workspaces/${SEG}/mobile$`),
    handle: async (ctx, [ref]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderMobile(ws, ws.addMobile(await parseBody(ctx, newMobileSchema)), 'FULL');
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^workspaces/${SEG}/mobile/${SEG}$`),
    handle: async (ctx, [ref, id]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      const device = ws.findMobile(id ?? '');
      if (!device) throw new ControlError(404, `mobile device not found: ${id}`);
      return renderMobile(ws, device, 'FULL');
    },
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^workspaces/${SEG}/mobile/${SEG}$`),
    handle: async (ctx, [ref, id]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderMobile(ws, ws.updateMobile(id ?? '', await parseBody(ctx, mobileUpdateSchema)), 'FULL');
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^workspaces/${SEG}/mobile/${SEG}$`),
    handle: async (ctx, [ref, id]) => {
      requireWorkspace(ctx.state, ref ?? '').removeMobile(id ?? '');
      return { removed: id };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^workspaces/${SEG}/grants/revoke$`),
    handle: async (ctx, [ref]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return { revokedGrants: ctx.state.oauth.revokeCustomer(ws.customerId) };
    },
  },
  {
    method: 'POST',
    pattern: /^tokens$/,
    handle: async (ctx) => {
      const input = await parseBody(ctx, issueTokenSchema);
      const ws = requireWorkspace(ctx.state, input.customerId);
      const user = ws.findUser(input.userEmail ?? ws.adminUserId);
      if (!user) throw new ControlError(404, `user not found: ${input.userEmail}`);
      const clientId = input.clientId ?? DEFAULT_OAUTH_CLIENT.clientId;
      if (!ctx.state.oauth.client(clientId)) throw new ControlError(404, `unknown OAuth client ${clientId}`);
      const scopes = [...new Set(input.scopes.map(normalizeScope))];
      const { access, refresh } = ctx.state.oauth.issueTokens(
        clientId,
        { customerId: ws.customerId, userId: user.id },
        scopes,
        input.offline ?? false,
      );
      return {
        access_token: access.token,
        ...(refresh ? { refresh_token: refresh.token } : {}),
        expires_in: Math.floor((access.expiresAt - Date.now()) / 1000),
        expiry_date: access.expiresAt,
        scope: scopes.join(' '),
        token_type: 'Bearer',
      };
    },
  },
  {
    method: 'POST',
    pattern: /^tokens\/expire$/,
    handle: async (ctx) => {
      const { accessToken } = await parseBody(ctx, expireTokenSchema);
      if (!ctx.state.oauth.expireAccessToken(accessToken))
        throw new ControlError(404, 'unknown access token');
      return { expired: true };
    },
  },
  {
    method: 'POST',
    pattern: /^oauth\/next-decision$/,
    handle: async (ctx) => {
      ctx.state.oauth.scriptNextDecision(await parseBody(ctx, consentDecisionSchema));
      return { scripted: true };
    },
  },
  {
    method: 'POST',
    pattern: /^oauth\/clients$/,
    handle: async (ctx) => {
      const input = await parseBody(ctx, oauthClientSchema);
      ctx.state.oauth.registerClient(input);
      return { clientId: input.clientId };
    },
  },
  {
    method: 'GET',
    pattern: /^quotas$/,
    handle: async (ctx) => ({ userQpm: ctx.state.quotas.userQpm, windowMs: ctx.state.quotas.windowMs }),
  },
  {
    method: 'PUT',
    pattern: /^quotas$/,
    handle: async (ctx) => {
      const input = await parseBody(ctx, quotaSchema);
      ctx.state.quotas.setUserQpm(input.userQpm, input.windowMs);
      return { userQpm: ctx.state.quotas.userQpm, windowMs: ctx.state.quotas.windowMs };
    },
  },
  {
    method: 'GET',
    pattern: /^faults$/,
    handle: async (ctx) => ctx.state.faults.state(),
  },
  {
    method: 'POST',
    pattern: /^faults$/,
    handle: async (ctx) => {
      ctx.state.faults.configure(await parseBody(ctx, faultsSchema));
      return ctx.state.faults.state();
    },
  },
  {
    method: 'DELETE',
    pattern: /^faults$/,
    handle: async (ctx) => {
      ctx.state.faults.clear();
      return ctx.state.faults.state();
    },
  },
  {
    method: 'GET',
    pattern: /^stats$/,
    handle: async (ctx) => ctx.state.stats.snapshot(),
  },
  {
    method: 'DELETE',
    pattern: /^stats$/,
    handle: async (ctx) => {
      ctx.state.stats.reset();
      return ctx.state.stats.snapshot();
    },
  },
  {
    method: 'POST',
    pattern: /^reset$/,
    handle: async (ctx) => {
      ctx.state.reset();
      return { reset: true };
    },
  },
];

/** `/_control/...`: test-only JSON API to shape the simulated tenants. Loopback callers only. */
export const handleControl: RouteHandler = async (ctx) => {
  if (!ctx.url.pathname.startsWith(PREFIX)) return false;
  try {
    if (!isLoopbackAddress(ctx.req.socket.remoteAddress))
      throw new ControlError(403, 'control API is loopback-only');
    const path = ctx.url.pathname.slice(PREFIX.length).replace(/\/$/, '');
    const candidates = ROUTES.filter((r) => r.pattern.test(path));
    if (candidates.length === 0) throw new ControlError(404, `no control endpoint ${ctx.url.pathname}`);
    const route = candidates.find((r) => r.method === ctx.req.method);
    if (!route) throw new ControlError(405, `${ctx.req.method} not allowed on ${ctx.url.pathname}`);
    const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
    const result = await route.handle(ctx, params);
    await sendJson(
      ctx.req,
      ctx.res,
      ctx.req.method === 'POST' &&
        /^workspaces(\/[^/]+\/(users|orgunits|chromeos|mobile|groups|groups\/[^/]+\/members))?$/.test(path)
        ? 201
        : 200,
      result,
    );
  } catch (err) {
    const status = err instanceof ControlError ? err.status : err instanceof WorkspaceError ? err.status : 0;
    if (status === 0) throw err;
    const issues = err instanceof ControlError ? err.issues : undefined;
    await sendJson(ctx.req, ctx.res, status, {
      error: { code: status, message: (err as Error).message, ...(issues ? { issues } : {}) },
    });
  }
  return true;
};
