import { z } from 'zod';
import type { Route } from './control-http.js';
import { ControlError, parseBody, requireWorkspace, SEG } from './control-http.js';
import { normalizeScope } from './scopes.js';

/**
 * Control routes standing in for the two consoles a service-account connection is set up in: the Cloud console
 * (create a service account, add or delete a JSON key) and the Admin console's domain-wide delegation page
 * (authorize the account's client id for scopes).
 */

const serviceAccountSchema = z.strictObject({
  clientEmail: z.email().max(254),
  projectId: z.string().min(1).max(63).optional(),
});
export type ServiceAccountInput = z.infer<typeof serviceAccountSchema>;

const delegationSchema = z.strictObject({
  clientId: z.string().regex(/^\d{1,30}$/),
  /** Replaces the entry's scopes; empty removes the entry. */
  scopes: z.array(z.string().min(1)).max(100),
});
export type DelegationInput = z.infer<typeof delegationSchema>;

const requireAccount = (ctx: Parameters<Route['handle']>[0], email: string | undefined) => {
  const account = ctx.state.serviceAccounts.get(decodeURIComponent(email ?? ''));
  if (!account) throw new ControlError(404, `no service account ${email ?? ''}`);
  return account;
};

export const SERVICE_ACCOUNT_CONTROL_ROUTES: Route[] = [
  {
    method: 'POST',
    pattern: /^service-accounts$/,
    handle: async (ctx) => {
      const input = await parseBody(ctx, serviceAccountSchema);
      const account = ctx.state.serviceAccounts.create(input);
      return { clientEmail: account.clientEmail, clientId: account.clientId };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^service-accounts/${SEG}/keys$`),
    handle: async (ctx, [email]) =>
      ctx.state.serviceAccounts.createKey(requireAccount(ctx, email), ctx.state.url),
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^service-accounts/${SEG}/keys/${SEG}$`),
    handle: async (ctx, [email, keyId]) => {
      if (!ctx.state.serviceAccounts.deleteKey(requireAccount(ctx, email), keyId ?? ''))
        throw new ControlError(404, `no key ${keyId ?? ''}`);
      return { deleted: true };
    },
  },
  {
    method: 'PUT',
    pattern: new RegExp(`^workspaces/${SEG}/domain-wide-delegation$`),
    handle: async (ctx, [ref]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      const input = await parseBody(ctx, delegationSchema);
      const scopes = input.scopes.map(normalizeScope);
      ctx.state.serviceAccounts.setDelegation(ws.customerId, input.clientId, scopes);
      return { clientId: input.clientId, scopes };
    },
  },
];
