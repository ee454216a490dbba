import { randomBytes, randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type {
  AppRegistration,
  ControlUser,
  TenantView,
  addUserInputSchema,
  createTenantInputSchema,
  registerAppInputSchema,
  updateUserInputSchema,
} from './control-schemas.js';
import { isGuestPrincipalName, type DirectoryUser, type UserProperty } from './directory-user.js';
import { overlapUser, seedUser, type SeedContext } from './seed-users.js';
import { hash32, mulberry32, randomGuid, type Rng } from './seeded-random.js';

export type UserState = 'active' | 'softDeleted' | 'hardDeleted';

/**
 * What an incremental delta round lists for users changed several times since its token. Graph documents both:
 * "Updates made before the initial request are summarized on the resource returned as its latest state", and "It's
 * possible that a single entity will be contained multiple times in the response, if that entity was changed
 * multiple times and under certain conditions" (learn.microsoft.com/graph/delta-query-overview, "Resource
 * representation in the delta query response").
 *  - 'latestState': one entry per changed user, its state now (the default).
 *  - 'everyChange': one entry per change, in the order the changes happened, each showing the user as that change
 *    left it; a user deleted and restored since the token is listed `@removed` and then as a user again.
 */
export type DeltaChanges = 'latestState' | 'everyChange';

/** One change to a user, as it left the user; 'everyChange' rounds list these. */
export interface UserChange {
  seq: number;
  state: UserState;
  user: DirectoryUser;
  nulledProperties: ReadonlySet<UserProperty>;
}

export interface UserEntry {
  user: DirectoryUser;
  state: UserState;
  deletedDateTime: string | null;
  /** Tenant change sequence of the last change; delta rounds compare against it. */
  changedSeq: number;
  /** Properties explicitly set to null; delta responses include those and omit never-set nulls, as Graph does. */
  nulledProperties: Set<UserProperty>;
}

export interface Tenant {
  tenantId: string;
  domain: string;
  /** Lower-cased verified domains, the initial one first. */
  domains: string[];
  displayName: string;
  entries: Map<string, UserEntry>;
  seq: number;
  /** Bumped to invalidate every outstanding delta and skip token. */
  deltaEpoch: number;
  deltaChanges: DeltaChanges;
  /** Every change in sequence order (user objects are replaced, never mutated, so entries share them). */
  changeLog: UserChange[];
  consents: Set<string>;
  consentDecision: 'approve' | 'deny';
  tokenLifetimeSeconds: number;
  rng: Rng;
  takenNames: Set<string>;
}

export interface IssuedToken {
  tenantId: string;
  clientId: string;
  expiresAt: number;
  roles: readonly string[];
  /** Set when admin consent is withdrawn; Graph then rejects the token before it expires. */
  revoked: boolean;
}

export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** All simulator state: app registrations, tenants with their users and consents, issued tokens. */
export class GraphDirectory {
  readonly apps = new Map<string, AppRegistration>();
  readonly tenants = new Map<string, Tenant>();
  readonly tokens = new Map<string, IssuedToken>();

  reset(): void {
    this.apps.clear();
    this.tenants.clear();
    this.tokens.clear();
  }

  registerApp(input: z.output<typeof registerAppInputSchema>): AppRegistration {
    const clientId = input.clientId ?? randomUUID();
    if (this.apps.has(clientId))
      throw new ControlError(409, 'conflict', `app ${clientId} is already registered`);
    const app: AppRegistration = {
      clientId,
      // Shaped like an Entra secret value (with the "~" that trips naive escaping).
      clientSecret:
        input.clientSecret ?? `${randomBytes(3).toString('hex')}8Q~${randomBytes(27).toString('base64url')}`,
      displayName: input.displayName ?? 'workspace-sync',
      permissions: input.permissions ?? ['User.Read.All'],
      redirectUris: input.redirectUris ?? [],
    };
    this.apps.set(clientId, app);
    return app;
  }

  /** Accepts the tenant GUID or any verified domain, case-insensitively, like the login endpoints. */
  findTenant(idOrDomain: string): Tenant | undefined {
    const key = idOrDomain.toLowerCase();
    const byId = this.tenants.get(key);
    if (byId) return byId;
    for (const tenant of this.tenants.values()) if (tenant.domains.includes(key)) return tenant;
    return undefined;
  }

  requireTenant(idOrDomain: string): Tenant {
    const tenant = this.findTenant(idOrDomain);
    if (!tenant) throw new ControlError(404, 'notFound', `tenant ${idOrDomain} does not exist`);
    return tenant;
  }

  createTenant(input: z.output<typeof createTenantInputSchema>): Tenant {
    const seed = input.seed ?? hash32(input.tenantId ?? input.domain);
    const rng = mulberry32(seed);
    // From the domain, not the seed: two tenants may share a seed (same people) but never an id.
    const tenantId = (
      input.tenantId ?? randomGuid(mulberry32(hash32(input.domain.toLowerCase())))
    ).toLowerCase();
    const domain = input.domain.toLowerCase();
    const overlapDomain = input.overlapWith?.domain.toLowerCase();
    for (const existing of this.tenants.values()) {
      if (existing.tenantId === tenantId)
        throw new ControlError(409, 'conflict', `tenant ${tenantId} already exists`);
      const clash = [domain, overlapDomain].find((d) => d !== undefined && existing.domains.includes(d));
      if (clash)
        throw new ControlError(
          409,
          'conflict',
          `domain ${clash} is already verified by ${existing.tenantId}`,
        );
    }
    for (const email of input.overlapWith?.emails ?? []) {
      if (!email.toLowerCase().endsWith(`@${overlapDomain}`)) {
        throw new ControlError(400, 'invalidArgument', `overlap email ${email} is not on ${overlapDomain}`);
      }
    }
    const tenant: Tenant = {
      tenantId,
      domain,
      domains: overlapDomain && overlapDomain !== domain ? [domain, overlapDomain] : [domain],
      displayName: input.displayName ?? domain.split('.')[0] ?? domain,
      entries: new Map(),
      seq: 0,
      deltaEpoch: 1,
      deltaChanges: input.deltaChanges,
      changeLog: [],
      consents: new Set(input.consentedClientIds),
      consentDecision: 'approve',
      tokenLifetimeSeconds: input.tokenLifetimeSeconds,
      rng,
      takenNames: new Set(),
    };
    const ctx: SeedContext = { rng, domain, takenNames: tenant.takenNames };
    const seen = new Set<string>();
    for (const email of input.overlapWith?.emails ?? []) {
      if (seen.has(email.toLowerCase())) continue;
      seen.add(email.toLowerCase());
      this.insert(tenant, overlapUser(ctx, email));
    }
    for (let i = 0; i < input.users; i++) this.insert(tenant, seedUser(ctx));
    this.tenants.set(tenantId, tenant);
    return tenant;
  }

  addUser(tenant: Tenant, input: z.output<typeof addUserInputSchema>): UserEntry {
    const id = (input.id ?? randomGuid(tenant.rng)).toLowerCase();
    if (tenant.entries.has(id)) throw new ControlError(409, 'conflict', `user ${id} already exists`);
    const { id: _id, ...props } = input;
    const user: DirectoryUser = {
      id,
      displayName: null,
      givenName: null,
      surname: null,
      mail: null,
      otherMails: [],
      jobTitle: null,
      department: null,
      officeLocation: null,
      mobilePhone: null,
      businessPhones: [],
      employeeId: null,
      accountEnabled: true,
      onPremisesSyncEnabled: null,
      createdDateTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      userType: isGuestPrincipalName(input.userPrincipalName) ? 'Guest' : 'Member',
      preferredLanguage: null,
      ...props,
    };
    this.checkPrincipalName(tenant, user.userPrincipalName, id);
    tenant.takenNames.add(user.userPrincipalName.toLowerCase());
    return this.insert(tenant, user);
  }

  updateUser(tenant: Tenant, id: string, patch: z.output<typeof updateUserInputSchema>): UserEntry {
    const entry = this.requireUser(tenant, id, ['active', 'softDeleted']);
    if (patch.userPrincipalName !== undefined && patch.userPrincipalName !== entry.user.userPrincipalName) {
      this.checkPrincipalName(tenant, patch.userPrincipalName, entry.user.id);
      tenant.takenNames.delete(entry.user.userPrincipalName.toLowerCase());
      tenant.takenNames.add(patch.userPrincipalName.toLowerCase());
    }
    for (const [key, value] of Object.entries(patch) as [UserProperty, unknown][]) {
      if (value === null) entry.nulledProperties.add(key);
      else entry.nulledProperties.delete(key);
    }
    entry.user = { ...entry.user, ...patch };
    this.touch(tenant, entry);
    return entry;
  }

  softDelete(tenant: Tenant, id: string): UserEntry {
    const entry = this.requireUser(tenant, id, ['active']);
    entry.state = 'softDeleted';
    entry.deletedDateTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.touch(tenant, entry);
    return entry;
  }

  restore(tenant: Tenant, id: string): UserEntry {
    const entry = this.requireUser(tenant, id, ['softDeleted']);
    entry.state = 'active';
    entry.deletedDateTime = null;
    this.touch(tenant, entry);
    return entry;
  }

  /** Permanent deletion; like the portal, an active user goes through the recycle bin on the way. */
  hardDelete(tenant: Tenant, id: string): void {
    const entry = this.requireUser(tenant, id, ['active', 'softDeleted']);
    entry.state = 'hardDeleted';
    tenant.takenNames.delete(entry.user.userPrincipalName.toLowerCase());
    this.touch(tenant, entry);
  }

  requireUser(tenant: Tenant, id: string, states: readonly UserState[]): UserEntry {
    const entry = tenant.entries.get(id.toLowerCase());
    if (!entry || entry.state === 'hardDeleted') {
      throw new ControlError(404, 'notFound', `user ${id} does not exist in ${tenant.tenantId}`);
    }
    if (!states.includes(entry.state)) {
      throw new ControlError(
        409,
        'conflict',
        `user ${id} is ${entry.state}; expected ${states.join(' or ')}`,
      );
    }
    return entry;
  }

  /** Revocation also invalidates tokens already issued, so a test sees the failure on the very next call. */
  revokeConsent(tenant: Tenant, clientId: string): void {
    tenant.consents.delete(clientId);
    for (const issued of this.tokens.values()) {
      if (issued.tenantId === tenant.tenantId && issued.clientId === clientId) issued.revoked = true;
    }
  }

  tenantView(tenant: Tenant): TenantView {
    let users = 0;
    let deletedUsers = 0;
    for (const entry of tenant.entries.values()) {
      if (entry.state === 'active') users++;
      else if (entry.state === 'softDeleted') deletedUsers++;
    }
    return {
      tenantId: tenant.tenantId,
      domain: tenant.domain,
      domains: [...tenant.domains],
      displayName: tenant.displayName,
      users,
      deletedUsers,
      consentedClientIds: [...tenant.consents],
      consentDecision: tenant.consentDecision,
      tokenLifetimeSeconds: tenant.tokenLifetimeSeconds,
      deltaChanges: tenant.deltaChanges,
    };
  }

  static controlUser(entry: UserEntry): ControlUser {
    if (entry.state === 'hardDeleted') throw new Error('hard-deleted users have no view');
    return { ...entry.user, state: entry.state, deletedDateTime: entry.deletedDateTime };
  }

  private checkPrincipalName(tenant: Tenant, upn: string, selfId: string): void {
    const at = upn.lastIndexOf('@');
    const domain = upn.slice(at + 1).toLowerCase();
    if (at <= 0 || !tenant.domains.includes(domain)) {
      throw new ControlError(
        400,
        'invalidArgument',
        `userPrincipalName ${upn} must use a verified domain of the tenant (${tenant.domains.join(', ')})`,
      );
    }
    for (const entry of tenant.entries.values()) {
      if (
        entry.state !== 'hardDeleted' &&
        entry.user.id !== selfId &&
        entry.user.userPrincipalName.toLowerCase() === upn.toLowerCase()
      ) {
        throw new ControlError(409, 'conflict', `userPrincipalName ${upn} is already in use`);
      }
    }
  }

  private insert(tenant: Tenant, user: DirectoryUser): UserEntry {
    tenant.seq++;
    const entry: UserEntry = {
      user,
      state: 'active',
      deletedDateTime: null,
      changedSeq: tenant.seq,
      nulledProperties: new Set(),
    };
    tenant.entries.set(user.id, entry);
    this.logChange(tenant, entry);
    return entry;
  }

  private touch(tenant: Tenant, entry: UserEntry): void {
    tenant.seq++;
    entry.changedSeq = tenant.seq;
    this.logChange(tenant, entry);
  }

  private logChange(tenant: Tenant, entry: UserEntry): void {
    tenant.changeLog.push({
      seq: tenant.seq,
      state: entry.state,
      user: entry.user,
      nulledProperties: new Set(entry.nulledProperties),
    });
  }
}
