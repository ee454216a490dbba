import { z } from 'zod';
import {
  appRegistrationSchema,
  controlErrorSchema,
  controlUserSchema,
  faultViewSchema,
  statsSchema,
  tenantViewSchema,
  type AddUserInput,
  type AppRegistration,
  type ControlUser,
  type CreateTenantInput,
  type FaultInput,
  type FaultView,
  type GraphSimulatorStats,
  type RegisterAppInput,
  type TenantView,
  type UpdateUserInput,
} from './control-schemas.js';

export class GraphSimulatorControlError extends Error {
  override readonly name = 'GraphSimulatorControlError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const okSchema = z.object({}).loose();

/** Typed client for the simulator's `/_control` API; every response is validated. */
export class GraphSimulatorControl {
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  reset(): Promise<void> {
    return this.call('POST', '/reset', okSchema).then(() => undefined);
  }

  registerApp(input: RegisterAppInput = {}): Promise<AppRegistration> {
    return this.call('POST', '/apps', appRegistrationSchema, input);
  }

  createTenant(input: CreateTenantInput): Promise<TenantView> {
    return this.call('POST', '/tenants', tenantViewSchema, input);
  }

  getTenant(tenantId: string): Promise<TenantView> {
    return this.call('GET', `/tenants/${enc(tenantId)}`, tenantViewSchema);
  }

  async listUsers(tenantId: string, options: { includeDeleted?: boolean } = {}): Promise<ControlUser[]> {
    const query = options.includeDeleted ? '?includeDeleted=true' : '';
    const body = await this.call(
      'GET',
      `/tenants/${enc(tenantId)}/users${query}`,
      z.object({ users: z.array(controlUserSchema) }),
    );
    return body.users;
  }

  getUser(tenantId: string, userId: string): Promise<ControlUser> {
    return this.call('GET', this.userPath(tenantId, userId), controlUserSchema);
  }

  addUser(tenantId: string, input: AddUserInput): Promise<ControlUser> {
    return this.call('POST', `/tenants/${enc(tenantId)}/users`, controlUserSchema, input);
  }

  updateUser(tenantId: string, userId: string, patch: UpdateUserInput): Promise<ControlUser> {
    return this.call('PATCH', this.userPath(tenantId, userId), controlUserSchema, patch);
  }

  disableUser(tenantId: string, userId: string): Promise<ControlUser> {
    return this.call('POST', `${this.userPath(tenantId, userId)}/disable`, controlUserSchema);
  }

  enableUser(tenantId: string, userId: string): Promise<ControlUser> {
    return this.call('POST', `${this.userPath(tenantId, userId)}/enable`, controlUserSchema);
  }

  /** Soft delete: the user moves to deleted items (restorable for 30 days in Entra). */
  deleteUser(tenantId: string, userId: string): Promise<ControlUser> {
    return this.call('DELETE', this.userPath(tenantId, userId), controlUserSchema);
  }

  restoreUser(tenantId: string, userId: string): Promise<ControlUser> {
    return this.call('POST', `${this.userPath(tenantId, userId)}/restore`, controlUserSchema);
  }

  async hardDeleteUser(tenantId: string, userId: string): Promise<void> {
    await this.call('DELETE', `${this.userPath(tenantId, userId)}?permanent=true`, okSchema);
  }

  grantConsent(tenantId: string, clientId: string): Promise<TenantView> {
    return this.call('POST', `/tenants/${enc(tenantId)}/consent`, tenantViewSchema, { clientId });
  }

  /** Also invalidates tokens already issued to the app for this tenant. */
  revokeConsent(tenantId: string, clientId: string): Promise<TenantView> {
    return this.call('DELETE', `/tenants/${enc(tenantId)}/consent/${enc(clientId)}`, tenantViewSchema);
  }

  /** What the admin "answers" on the /adminconsent page. */
  setConsentDecision(tenantId: string, decision: 'approve' | 'deny'): Promise<TenantView> {
    return this.call('PUT', `/tenants/${enc(tenantId)}/consent-decision`, tenantViewSchema, { decision });
  }

  /**
   * How incremental delta rounds started from now on list a user changed several times: 'latestState' (one entry,
   * its state now) or 'everyChange' (one entry per change, in order: deleted then restored is `@removed`, then
   * the user). Both are documented Graph behaviour; see graph-directory.ts DeltaChanges.
   */
  setDeltaChanges(tenantId: string, mode: 'latestState' | 'everyChange'): Promise<TenantView> {
    return this.call('PUT', `/tenants/${enc(tenantId)}/delta-changes`, tenantViewSchema, { mode });
  }

  /** Every outstanding deltaLink/nextLink of the tenant then answers 410 syncStateNotFound. */
  async expireDeltaTokens(tenantId: string): Promise<void> {
    await this.call('POST', `/tenants/${enc(tenantId)}/delta-tokens/expire`, okSchema);
  }

  injectFault(input: FaultInput): Promise<FaultView> {
    return this.call('POST', '/faults', faultViewSchema, input);
  }

  async listFaults(): Promise<FaultView[]> {
    return (await this.call('GET', '/faults', z.object({ faults: z.array(faultViewSchema) }))).faults;
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults', okSchema);
  }

  stats(): Promise<GraphSimulatorStats> {
    return this.call('GET', '/stats', statsSchema);
  }

  async resetStats(): Promise<void> {
    await this.call('DELETE', '/stats', okSchema);
  }

  private userPath(tenantId: string, userId: string): string {
    return `/tenants/${enc(tenantId)}/users/${enc(userId)}`;
  }

  private async call<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/_control${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const parsed = controlErrorSchema.safeParse(json);
      const { code, message } = parsed.success
        ? parsed.data.error
        : { code: 'unknown', message: `HTTP ${res.status}` };
      throw new GraphSimulatorControlError(res.status, code, `${method} /_control${path}: ${message}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new GraphSimulatorControlError(
        res.status,
        'badResponse',
        `${method} /_control${path}: ${z.prettifyError(parsed.error)}`,
      );
    }
    return parsed.data;
  }
}

const enc = encodeURIComponent;
