import { z } from 'zod';

/**
 * Runtime configuration, read once from the environment and validated: a typo in a deployment fails at start
 * with a message naming the variable, not later in the middle of a tenant's sync.
 */
const intMs = (def: number) => z.coerce.number().int().positive().default(def);

const envSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string().min(1).default('demo-workspace-sync'),
  /** Root of Google's APIs and OAuth; locally the Workspace simulator's URL. */
  WORKSPACE_ENDPOINT: z.url().optional(),
  GOOGLE_OAUTH_CLIENT_ID: z.string().min(1).default('workspace-sync-local.apps.googleusercontent.com'),
  GOOGLE_OAUTH_CLIENT_SECRET: z.string().min(1).default('local-client-secret'),
  OAUTH_REDIRECT_URI: z.url().default('http://127.0.0.1:5000/oauth/callback'),
  SYNC_INVOCATION_BUDGET_MS: intMs(480_000),
  SYNC_LEASE_MS: intMs(120_000),
  SYNC_TENANT_QPM: z.coerce.number().int().positive().default(1500),
  SYNC_BACKOFF_INITIAL_MS: intMs(1000),
  SYNC_BACKOFF_MAX_MS: intMs(32_000),
  SYNC_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  /** Smaller pages than the API maximum, only to exercise paging in tests and benchmarks. */
  SYNC_PAGE_SIZE: z.coerce.number().int().positive().optional(),
});

export interface GoogleEndpoints {
  apiRoot: string;
  authUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  certsUrl: string;
  pemCertsUrl: string;
  userinfoUrl: string;
  issuers: string[];
}

export const GOOGLE_ENDPOINTS: GoogleEndpoints = {
  apiRoot: 'https://admin.googleapis.com/',
  authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  revokeUrl: 'https://oauth2.googleapis.com/revoke',
  certsUrl: 'https://www.googleapis.com/oauth2/v3/certs',
  pemCertsUrl: 'https://www.googleapis.com/oauth2/v1/certs',
  userinfoUrl: 'https://openidconnect.googleapis.com/v1/userinfo',
  issuers: ['https://accounts.google.com', 'accounts.google.com'],
};

/** The simulator serves every Google path under one origin. */
export function endpointsAt(base: string): GoogleEndpoints {
  const root = base.replace(/\/+$/, '');
  return {
    apiRoot: `${root}/`,
    authUrl: `${root}/o/oauth2/v2/auth`,
    tokenUrl: `${root}/token`,
    revokeUrl: `${root}/revoke`,
    certsUrl: `${root}/oauth2/v3/certs`,
    pemCertsUrl: `${root}/oauth2/v1/certs`,
    userinfoUrl: `${root}/oauth2/v3/userinfo`,
    issuers: [root],
  };
}

export interface SyncConfig {
  invocationBudgetMs: number;
  leaseMs: number;
  tenantQpm: number;
  backoff: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number; multiplier: number };
  pageSize?: number;
}

export interface RuntimeConfig {
  projectId: string;
  google: GoogleEndpoints;
  oauthClient: { clientId: string; clientSecret: string; redirectUri: string };
  sync: SyncConfig;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  const e = parsed.data;
  return {
    projectId: e.GOOGLE_CLOUD_PROJECT,
    google: e.WORKSPACE_ENDPOINT ? endpointsAt(e.WORKSPACE_ENDPOINT) : GOOGLE_ENDPOINTS,
    oauthClient: {
      clientId: e.GOOGLE_OAUTH_CLIENT_ID,
      clientSecret: e.GOOGLE_OAUTH_CLIENT_SECRET,
      redirectUri: e.OAUTH_REDIRECT_URI,
    },
    sync: {
      invocationBudgetMs: e.SYNC_INVOCATION_BUDGET_MS,
      leaseMs: e.SYNC_LEASE_MS,
      tenantQpm: e.SYNC_TENANT_QPM,
      backoff: {
        maxAttempts: e.SYNC_MAX_ATTEMPTS,
        initialDelayMs: e.SYNC_BACKOFF_INITIAL_MS,
        maxDelayMs: e.SYNC_BACKOFF_MAX_MS,
        multiplier: 2,
      },
      ...(e.SYNC_PAGE_SIZE ? { pageSize: e.SYNC_PAGE_SIZE } : {}),
    },
  };
}
