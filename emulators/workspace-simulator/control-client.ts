import type { WorkspaceSummary } from './control-api.js';
import type {
  ChromeOsUpdateInput,
  ConsentDecisionInput,
  FaultsInput,
  GroupUpdateInput,
  IssueTokenInput,
  MemberUpdateInput,
  MobileUpdateInput,
  NewChromeOsInput,
  NewGroupInput,
  NewMemberInput,
  NewMobileInput,
  NewOrgUnitInput,
  NewUserInput,
  OAuthClientInput,
  OrgUnitUpdateInput,
  UndeleteUserInput,
  UserUpdateInput,
} from './control-schemas.js';
import type { FaultState } from './faults.js';
import type {
  ApiChromeOsDevice,
  ApiGroup,
  ApiMember,
  ApiMobileDevice,
  ApiOrgUnit,
  ApiUser,
} from './model.js';
import type { SeedSpec } from './seed.js';
import type { StatsSnapshot } from './stats.js';
import type { ServiceAccountKeyFile } from './service-accounts.js';
import type { DelegationInput, ServiceAccountInput } from './service-account-control-routes.js';

export type { WorkspaceSummary };

export interface CreatedWorkspace {
  customerId: string;
  domain: string;
  adminEmail: string;
}

export interface IssuedToken {
  access_token: string;
  refresh_token?: string;
  expires_in: number;
  /** Absolute expiry in ms, ready for `OAuth2Client.setCredentials`. */
  expiry_date: number;
  scope: string;
  token_type: 'Bearer';
}

export interface WatchChannelView {
  id: string;
  resourceId: string;
  customerId: string;
  event: string | null;
  address: string;
  expiration: number;
  stopped: boolean;
  messageNumber: number;
  delivered: number;
  failed: number;
  dropped: number;
}

export class SimulatorControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'SimulatorControlError';
  }
}

/** Typed client for the simulator's `/_control` API. `workspace` arguments take a customerId or a domain. */
export class SimulatorControl {
  private readonly base: string;

  constructor(baseUrl: string) {
    this.base = `${baseUrl.replace(/\/+$/, '')}/_control`;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const message =
        (parsed as { error?: { message?: string } } | undefined)?.error?.message ?? res.statusText;
      throw new SimulatorControlError(res.status, `${method} ${path}: ${res.status} ${message}`, parsed);
    }
    return parsed as T;
  }

  private ws(workspace: string): string {
    return `/workspaces/${encodeURIComponent(workspace)}`;
  }

  // workspaces
  createWorkspace(spec: SeedSpec): Promise<CreatedWorkspace> {
    return this.call('POST', '/workspaces', spec);
  }
  async listWorkspaces(): Promise<WorkspaceSummary[]> {
    return (await this.call<{ workspaces: WorkspaceSummary[] }>('GET', '/workspaces')).workspaces;
  }
  getWorkspace(workspace: string): Promise<WorkspaceSummary> {
    return this.call('GET', this.ws(workspace));
  }

  // users
  getUser(workspace: string, userKey: string): Promise<ApiUser> {
    return this.call('GET', `${this.ws(workspace)}/users/${encodeURIComponent(userKey)}`);
  }
  addUser(workspace: string, user: NewUserInput): Promise<ApiUser> {
    return this.call('POST', `${this.ws(workspace)}/users`, user);
  }
  updateUser(workspace: string, userKey: string, patch: UserUpdateInput): Promise<ApiUser> {
    return this.call('PATCH', `${this.ws(workspace)}/users/${encodeURIComponent(userKey)}`, patch);
  }
  suspendUser(workspace: string, userKey: string): Promise<ApiUser> {
    return this.userAction(workspace, userKey, 'suspend');
  }
  unsuspendUser(workspace: string, userKey: string): Promise<ApiUser> {
    return this.userAction(workspace, userKey, 'unsuspend');
  }
  archiveUser(workspace: string, userKey: string): Promise<ApiUser> {
    return this.userAction(workspace, userKey, 'archive');
  }
  unarchiveUser(workspace: string, userKey: string): Promise<ApiUser> {
    return this.userAction(workspace, userKey, 'unarchive');
  }
  /** Sets deletionTime: the user leaves normal listings and shows up with showDeleted=true. */
  deleteUser(workspace: string, userKey: string): Promise<ApiUser> {
    return this.call('DELETE', `${this.ws(workspace)}/users/${encodeURIComponent(userKey)}`);
  }
  undeleteUser(workspace: string, userKey: string, input: UndeleteUserInput = {}): Promise<ApiUser> {
    return this.userAction(workspace, userKey, 'undelete', input);
  }
  /** Renames `count` users spread over the workspace (default: the newest workspace) in one call. */
  bulkRenameUsers(count: number, workspace?: string): Promise<{ customerId: string; renamed: number }> {
    return this.call('POST', '/users/bulk-rename', { count, ...(workspace ? { workspace } : {}) });
  }
  private userAction(
    workspace: string,
    userKey: string,
    action: string,
    body: unknown = {},
  ): Promise<ApiUser> {
    return this.call('POST', `${this.ws(workspace)}/users/${encodeURIComponent(userKey)}/${action}`, body);
  }

  // org units
  addOrgUnit(workspace: string, input: NewOrgUnitInput): Promise<ApiOrgUnit> {
    return this.call('POST', `${this.ws(workspace)}/orgunits`, input);
  }
  /** Rename and/or move; descendants, users and devices follow. */
  updateOrgUnit(workspace: string, input: OrgUnitUpdateInput): Promise<ApiOrgUnit> {
    return this.call('PATCH', `${this.ws(workspace)}/orgunits`, input);
  }

  // devices
  addChromeOsDevice(workspace: string, input: NewChromeOsInput): Promise<ApiChromeOsDevice> {
    return this.call('POST', `${this.ws(workspace)}/chromeos`, input);
  }
  getChromeOsDevice(workspace: string, deviceId: string): Promise<ApiChromeOsDevice> {
    return this.call('GET', `${this.ws(workspace)}/chromeos/${encodeURIComponent(deviceId)}`);
  }
  updateChromeOsDevice(
    workspace: string,
    deviceId: string,
    patch: ChromeOsUpdateInput,
  ): Promise<ApiChromeOsDevice> {
    return this.call('PATCH', `${this.ws(workspace)}/chromeos/${encodeURIComponent(deviceId)}`, patch);
  }
  async removeChromeOsDevice(workspace: string, deviceId: string): Promise<void> {
    await this.call('DELETE', `${this.ws(workspace)}/chromeos/${encodeURIComponent(deviceId)}`);
  }
  addMobileDevice(workspace: string, input: NewMobileInput): Promise<ApiMobileDevice> {
    return this.call('POST', `${this.ws(workspace)}/mobile`, input);
  }
  getMobileDevice(workspace: string, resourceId: string): Promise<ApiMobileDevice> {
    return this.call('GET', `${this.ws(workspace)}/mobile/${encodeURIComponent(resourceId)}`);
  }
  updateMobileDevice(
    workspace: string,
    resourceId: string,
    patch: MobileUpdateInput,
  ): Promise<ApiMobileDevice> {
    return this.call('PATCH', `${this.ws(workspace)}/mobile/${encodeURIComponent(resourceId)}`, patch);
  }
  async removeMobileDevice(workspace: string, resourceId: string): Promise<void> {
    await this.call('DELETE', `${this.ws(workspace)}/mobile/${encodeURIComponent(resourceId)}`);
  }

  // groups and memberships (memberKey: the member's email or id; for a CUSTOMER member, the customer id)
  addGroup(workspace: string, input: NewGroupInput): Promise<ApiGroup> {
    return this.call('POST', `${this.ws(workspace)}/groups`, input);
  }
  getGroup(workspace: string, groupKey: string): Promise<ApiGroup> {
    return this.call('GET', this.group(workspace, groupKey));
  }
  /** A new email keeps the old one as an alias, as a rename does in Google. */
  updateGroup(workspace: string, groupKey: string, patch: GroupUpdateInput): Promise<ApiGroup> {
    return this.call('PATCH', this.group(workspace, groupKey), patch);
  }
  /** Also removes the group from every group it was a member of. */
  async deleteGroup(workspace: string, groupKey: string): Promise<void> {
    await this.call('DELETE', this.group(workspace, groupKey));
  }
  /** A workspace user or group (by email or id), an outside address (EXTERNAL) or `{type: 'CUSTOMER'}`. */
  addGroupMember(workspace: string, groupKey: string, member: NewMemberInput): Promise<ApiMember> {
    return this.call('POST', `${this.group(workspace, groupKey)}/members`, member);
  }
  updateGroupMember(
    workspace: string,
    groupKey: string,
    memberKey: string,
    patch: MemberUpdateInput,
  ): Promise<ApiMember> {
    return this.call(
      'PATCH',
      `${this.group(workspace, groupKey)}/members/${encodeURIComponent(memberKey)}`,
      patch,
    );
  }
  async removeGroupMember(workspace: string, groupKey: string, memberKey: string): Promise<void> {
    await this.call('DELETE', `${this.group(workspace, groupKey)}/members/${encodeURIComponent(memberKey)}`);
  }
  private group(workspace: string, groupKey: string): string {
    return `${this.ws(workspace)}/groups/${encodeURIComponent(groupKey)}`;
  }

  // grants and tokens
  /** Revokes every grant of the customer: the next refresh gets invalid_grant. */
  async revokeGrants(workspace: string): Promise<{ revokedGrants: number }> {
    return this.call('POST', `${this.ws(workspace)}/grants/revoke`, {});
  }
  /** Mints tokens without the browser dance (as if the admin had consented). */
  issueToken(input: IssueTokenInput): Promise<IssuedToken> {
    return this.call('POST', '/tokens', input);
  }
  async expireAccessToken(accessToken: string): Promise<void> {
    await this.call('POST', '/tokens/expire', { accessToken });
  }

  // oauth
  /** Scripts the next consent decision (takes precedence over autoApprove and the consent page). */
  async setNextConsentDecision(decision: ConsentDecisionInput): Promise<void> {
    await this.call('POST', '/oauth/next-decision', decision);
  }
  async registerOAuthClient(client: OAuthClientInput): Promise<void> {
    await this.call('POST', '/oauth/clients', client);
  }

  // service accounts and domain-wide delegation (service-account-control-routes.ts)
  /** Creates the service account (or returns the existing one): its numeric client id. */
  createServiceAccount(input: ServiceAccountInput): Promise<{ clientEmail: string; clientId: string }> {
    return this.call('POST', '/service-accounts', input);
  }
  /** A new key, as the Cloud console's JSON key download; the simulator keeps only its public half. */
  createServiceAccountKey(clientEmail: string): Promise<ServiceAccountKeyFile> {
    return this.call('POST', `/service-accounts/${encodeURIComponent(clientEmail)}/keys`, {});
  }
  async deleteServiceAccountKey(clientEmail: string, keyId: string): Promise<void> {
    await this.call(
      'DELETE',
      `/service-accounts/${encodeURIComponent(clientEmail)}/keys/${encodeURIComponent(keyId)}`,
    );
  }
  /** The Admin console's domain-wide delegation entry for a client id (empty scopes remove it). */
  setDomainWideDelegation(workspace: string, input: DelegationInput): Promise<DelegationInput> {
    return this.call('PUT', `${this.ws(workspace)}/domain-wide-delegation`, input);
  }

  // push channels (watch-control-routes.ts)
  /** users.watch channels the simulator holds, with their delivery counts. */
  watchChannels(): Promise<{ channels: WatchChannelView[]; dropped: number }> {
    return this.call('GET', '/watch-channels');
  }

  /** The next `count` notifications are lost (never delivered). */
  dropNotifications(count: number): Promise<{ pending: number }> {
    return this.call('POST', '/watch-channels/drop-notifications', { count });
  }

  // quotas, faults, stats
  async getQuota(): Promise<{ userQpm: number; windowMs: number }> {
    return this.call('GET', '/quotas');
  }
  /** `userQpm` queries per `windowMs` (default: a minute, as Google counts). */
  async setQuota(input: {
    userQpm: number;
    windowMs?: number;
  }): Promise<{ userQpm: number; windowMs: number }> {
    return this.call('PUT', '/quotas', input);
  }
  getFaults(): Promise<FaultState> {
    return this.call('GET', '/faults');
  }
  /** Adds faults (and/or reseeds, sets failTokenEndpoint); existing faults stay until consumed or cleared. */
  setFaults(input: FaultsInput): Promise<FaultState> {
    return this.call('POST', '/faults', input);
  }
  clearFaults(): Promise<FaultState> {
    return this.call('DELETE', '/faults');
  }
  getStats(): Promise<StatsSnapshot> {
    return this.call('GET', '/stats');
  }
  resetStats(): Promise<StatsSnapshot> {
    return this.call('DELETE', '/stats');
  }
  /** Forget all workspaces, grants, faults, quotas and stats. */
  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }
}
