import { randomBytes } from 'node:crypto';
import { FaultInjector } from './faults.js';
import { IdTokenSigner } from './id-token.js';
import type { UserRecord } from './model.js';
import { OAuthState } from './oauth-state.js';
import { PageTokenCodec } from './paging.js';
import { QuotaTracker } from './quotas.js';
import type { SeedSpec } from './seed.js';
import { generateCustomerId, generateWorkspace } from './seed.js';
import { hash32, mulberry32 } from './prng.js';
import { RequestStats } from './stats.js';
import { ServiceAccounts } from './service-accounts.js';
import { WatchChannels } from './watch-channels.js';
import { Workspace, WorkspaceError } from './workspace.js';

/** Everything one simulator instance knows; the HTTP layers are stateless around it. */
export class SimulatorState {
  private readonly workspaces = new Map<string, Workspace>();
  private readonly byDomain = new Map<string, Workspace>();
  readonly oauth = new OAuthState();
  readonly faults = new FaultInjector();
  readonly quotas = new QuotaTracker();
  readonly stats = new RequestStats();
  readonly signer = new IdTokenSigner();
  readonly pageTokens = new PageTokenCodec(randomBytes(32));
  /** users.watch channels and their notifications. */
  readonly watch = new WatchChannels();
  /** Service accounts, their keys and each customer's domain-wide delegation (service-accounts.ts). */
  readonly serviceAccounts = new ServiceAccounts();
  /** Public base URL, known once the server listens; also the id_token issuer. */
  url = '';

  constructor(readonly autoApprove: boolean) {}

  createWorkspace(spec: SeedSpec): Workspace {
    const domain = spec.domain.toLowerCase();
    if (this.byDomain.has(domain)) throw new WorkspaceError(409, `a workspace for ${domain} already exists`);
    if (spec.customerId && this.workspaces.has(spec.customerId)) {
      throw new WorkspaceError(409, `customer ${spec.customerId} already exists`);
    }
    let seeded = generateWorkspace({ ...spec, domain });
    // A derived customer id only collides by bad luck; derive another one, still deterministically.
    for (let bump = 1; this.workspaces.has(seeded.customerId); bump++) {
      const customerId = generateCustomerId(mulberry32(hash32(`${domain}#${bump}`)));
      seeded = generateWorkspace({ ...spec, domain, customerId });
    }
    const ws = new Workspace(seeded);
    ws.onUserChange = (event, user) => this.watch.notify(ws, event, user);
    this.workspaces.set(ws.customerId, ws);
    this.byDomain.set(domain, ws);
    return ws;
  }

  workspace(customerId: string): Workspace | undefined {
    return this.workspaces.get(customerId);
  }

  allWorkspaces(): Workspace[] {
    return [...this.workspaces.values()];
  }

  latestWorkspace(): Workspace | undefined {
    let latest: Workspace | undefined;
    for (const ws of this.workspaces.values()) latest = ws;
    return latest;
  }

  /** The workspace owning an email's domain (sub-domains included). */
  workspaceForEmail(email: string): Workspace | undefined {
    let domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
    for (;;) {
      const ws = this.byDomain.get(domain);
      if (ws) return ws;
      const dot = domain.indexOf('.');
      if (dot < 0) return undefined;
      domain = domain.slice(dot + 1);
    }
  }

  workspaceForDomain(domain: string): Workspace | undefined {
    return this.byDomain.get(domain.toLowerCase());
  }

  findUserByEmail(email: string): { ws: Workspace; user: UserRecord } | undefined {
    const ws = this.workspaceForEmail(email);
    const user = ws?.findUser(email);
    return ws && user ? { ws, user } : undefined;
  }

  /** `login_hint` may also be the user's `sub` (their immutable id). */
  findUserByEmailOrId(hint: string): { ws: Workspace; user: UserRecord } | undefined {
    if (hint.includes('@')) return this.findUserByEmail(hint);
    for (const ws of this.workspaces.values()) {
      const user = ws.findUser(hint);
      if (user) return { ws, user };
    }
    return undefined;
  }

  /** Active = exists, not deleted, not suspended: the only users who can sign in or keep tokens alive. */
  activeUser(customerId: string, userId: string): { ws: Workspace; user: UserRecord } | undefined {
    const ws = this.workspaces.get(customerId);
    const user = ws?.findUser(userId);
    if (!ws || !user || user.suspended) return undefined;
    return { ws, user };
  }

  reset(): void {
    this.workspaces.clear();
    this.byDomain.clear();
    this.oauth.reset();
    this.faults.clear();
    this.quotas.reset();
    this.stats.reset();
    this.watch.reset();
    this.serviceAccounts.reset();
  }
}
