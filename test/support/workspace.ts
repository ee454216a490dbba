import { google, type admin_directory_v1 } from 'googleapis';
import {
  DEFAULT_OAUTH_CLIENT,
  SimulatorControl,
  startWorkspaceSimulator,
  type FaultSpec,
  type UserUpdateInput,
} from '../../emulators/workspace-simulator/index.js';
import { endpointsAt, loadConfig } from '../../functions/src/platform/config.js';
import { authorizeAgainstSimulator } from './google-oauth.js';

export interface WorkspaceUnderTest {
  url: string;
  customerId: string;
  domain: string;
  adminEmail: string;
  control: SimulatorControl;
  /** Ground truth read straight from the simulator with googleapis, independent of the sync code. */
  listUsers(): Promise<
    Array<
      admin_directory_v1.Schema$User & {
        primaryEmail: string;
        id: string;
        orgUnitPath: string;
        name: admin_directory_v1.Schema$UserName;
      }
    >
  >;
  listChromeOs(): Promise<Array<admin_directory_v1.Schema$ChromeOsDevice & { serialNumber: string }>>;
  listMobile(): Promise<admin_directory_v1.Schema$MobileDevice[]>;
  listGroups(): Promise<Array<admin_directory_v1.Schema$Group & { id: string; email: string }>>;
  /** A group's direct members, every page. */
  listMembers(groupKey: string): Promise<admin_directory_v1.Schema$Member[]>;
  updateUser(email: string, patch: UserUpdateInput): Promise<void>;
  suspendUser(email: string): Promise<void>;
  archiveUser(email: string): Promise<void>;
  deleteUser(email: string): Promise<void>;
  revokeGrants(): Promise<void>;
  /** Rate-based faults on matching requests (seeded, so a run is repeatable). */
  setFaults(spec: { rate?: number; next?: number; kinds: string[]; path?: string }): Promise<void>;
  clearFaults(): Promise<void>;
  close(): Promise<void>;
}

const FAULT_KINDS: Record<string, Partial<FaultSpec>> = {
  '429': { kind: 'rateLimitExceeded' },
  '500': { kind: 'backendError', status: 500 },
  '503': { kind: 'backendError', status: 503 },
  userRateLimitExceeded: { kind: 'userRateLimitExceeded' },
  quotaExceeded: { kind: 'quotaExceeded' },
  reset: { kind: 'connectionReset' },
  expiredPageToken: { kind: 'expiredPageToken' },
};

export async function startWorkspace(spec: {
  users: number;
  chromeos: number;
  mobile: number;
  seed: number;
  /** Default: the simulator's (about one group per ten users). */
  groups?: number;
  domain?: string;
}): Promise<WorkspaceUnderTest> {
  const sim = await startWorkspaceSimulator({ port: 0, autoApprove: true });
  const control = new SimulatorControl(sim.url);
  const ws = await control.createWorkspace({
    domain: spec.domain ?? 'school.example',
    seed: spec.seed,
    users: spec.users,
    chromeos: spec.chromeos,
    mobile: spec.mobile,
    ...(spec.groups !== undefined ? { groups: spec.groups } : {}),
  });
  const config = loadConfig({
    WORKSPACE_ENDPOINT: sim.url,
    GOOGLE_OAUTH_CLIENT_ID: DEFAULT_OAUTH_CLIENT.clientId,
    GOOGLE_OAUTH_CLIENT_SECRET: DEFAULT_OAUTH_CLIENT.clientSecret,
  });

  // A separate grant for the ground-truth reader, so revoking the tenant's grant in a test does not blind it.
  const readerGrant = await authorizeAgainstSimulator(config, ws.adminEmail);
  const reader = new google.auth.OAuth2({
    clientId: config.oauthClient.clientId,
    clientSecret: config.oauthClient.clientSecret,
    endpoints: { oauth2TokenUrl: endpointsAt(sim.url).tokenUrl },
  });
  reader.setCredentials({ refresh_token: readerGrant.refreshToken });
  const admin = google.admin({ version: 'directory_v1', auth: reader, rootUrl: `${sim.url}/` });

  async function all<T>(
    fetchPage: (pageToken?: string) => Promise<{ items: T[]; next?: string | null }>,
  ): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const { items, next } = await fetchPage(token);
      out.push(...items);
      token = next ?? undefined;
    } while (token);
    return out;
  }

  return {
    url: sim.url,
    customerId: ws.customerId,
    domain: ws.domain,
    adminEmail: ws.adminEmail,
    control,
    listUsers: () =>
      all(async (pageToken) => {
        const r = await admin.users.list({
          customer: 'my_customer',
          maxResults: 500,
          pageToken,
          projection: 'full',
        });
        return { items: (r.data.users ?? []) as never[], next: r.data.nextPageToken };
      }),
    listChromeOs: () =>
      all(async (pageToken) => {
        const r = await admin.chromeosdevices.list({
          customerId: 'my_customer',
          maxResults: 300,
          pageToken,
          projection: 'FULL',
        });
        return { items: (r.data.chromeosdevices ?? []) as never[], next: r.data.nextPageToken };
      }),
    listMobile: () =>
      all(async (pageToken) => {
        const r = await admin.mobiledevices.list({ customerId: 'my_customer', maxResults: 100, pageToken });
        return { items: r.data.mobiledevices ?? [], next: r.data.nextPageToken };
      }),
    listGroups: () =>
      all(async (pageToken) => {
        const r = await admin.groups.list({ customer: 'my_customer', maxResults: 200, pageToken });
        return { items: (r.data.groups ?? []) as never[], next: r.data.nextPageToken };
      }),
    listMembers: (groupKey) =>
      all(async (pageToken) => {
        const r = await admin.members.list({ groupKey, maxResults: 200, pageToken });
        return { items: r.data.members ?? [], next: r.data.nextPageToken };
      }),
    updateUser: async (email, patch) => void (await control.updateUser(ws.customerId, email, patch)),
    suspendUser: async (email) => void (await control.suspendUser(ws.customerId, email)),
    archiveUser: async (email) => void (await control.archiveUser(ws.customerId, email)),
    deleteUser: async (email) => void (await control.deleteUser(ws.customerId, email)),
    revokeGrants: async () => {
      await control.revokeGrants(ws.customerId);
    },
    setFaults: async ({ rate, next, kinds, path }) => {
      const faults = kinds.map((k) => {
        const base = FAULT_KINDS[k];
        if (!base) throw new Error(`unknown fault kind ${k}`);
        return {
          ...base,
          ...(rate !== undefined ? { rate: rate / kinds.length } : { count: next ?? 1 }),
          ...(path ? { pathContains: path } : {}),
        } as FaultSpec;
      });
      await control.setFaults({ seed: 1234, faults });
    },
    clearFaults: async () => void (await control.clearFaults()),
    close: () => sim.close(),
  };
}
