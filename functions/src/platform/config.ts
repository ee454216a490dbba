import { z } from 'zod';
import { isEmulatorHost } from '../secrets/emulator-host.js';
import { DEFAULT_AUTHORITY_BASE_URL, DEFAULT_GRAPH_BASE_URL } from '../sources/entra/entra-connection.js';
import { LOG_LEVELS, type LogLevel } from './log.js';

/**
 * The service's one configuration, read from the environment once at start-up and validated as a whole: a typo
 * in a deployment fails at start with a message naming every bad variable, not later in the middle of a
 * tenant's sync or at the first API request. Modelled on functions-framework-nodejs' `options.ts`: one schema,
 * one result type, one error.
 */
const intMs = (def: number) => z.coerce.number().int().positive().default(def);

/** An empty variable counts as unset. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
}

// Project ids are 6-30 chars; legacy domain-scoped ones carry an `example.com:` prefix.
const PROJECT_ID = /^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

const hmacKeys = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const keys = new Map<string, string>();
    for (const entry of raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const colon = entry.indexOf(':');
      const keyId = colon > 0 ? entry.slice(0, colon) : '';
      const secret = colon > 0 ? entry.slice(colon + 1) : '';
      // The secret itself never goes into the message: this error is printed at start-up.
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(keyId) || secret.length < 16) {
        ctx.addIssue({
          code: 'custom',
          message: 'expected keyId:secret pairs (secret at least 16 characters), comma separated',
        });
        return z.NEVER;
      }
      keys.set(keyId, secret);
    }
    return keys;
  });

/**
 * Every variable the service reads. README.md's Configuration table lists the same keys with the same
 * defaults; test/foundation/config.test.ts holds the two together.
 */
export const envShape = {
  // projectId (and the secret store's project)
  GOOGLE_CLOUD_PROJECT: z
    .string()
    .trim()
    .regex(PROJECT_ID, 'must be a Google Cloud project id')
    .default('demo-workspace-sync'),

  // google
  /** Root of Google's APIs and OAuth; locally the Workspace simulator's URL. */
  WORKSPACE_ENDPOINT: z.url().optional(),

  // oauthClient
  GOOGLE_OAUTH_CLIENT_ID: z.string().min(1).default('workspace-sync-local.apps.googleusercontent.com'),
  GOOGLE_OAUTH_CLIENT_SECRET: z.string().min(1).default('local-client-secret'),
  OAUTH_REDIRECT_URI: z.url().default('http://127.0.0.1:5000/oauth/callback'),

  // sync
  SYNC_INVOCATION_BUDGET_MS: intMs(480_000),
  SYNC_LEASE_MS: intMs(120_000),
  SYNC_TENANT_QPM: z.coerce.number().int().positive().default(1500),
  /** The window SYNC_TENANT_QPM counts over: Google's quota is per minute; tests shorten it to see several. */
  SYNC_BUDGET_WINDOW_MS: z.coerce.number().int().min(600).max(3_600_000).default(60_000),
  SYNC_BACKOFF_INITIAL_MS: intMs(1000),
  SYNC_BACKOFF_MAX_MS: intMs(32_000),
  SYNC_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(8),
  /** Smaller pages than the API maximum, only to exercise paging in tests and benchmarks. */
  SYNC_PAGE_SIZE: z.coerce.number().int().positive().optional(),
  /** Partitions of a full pass (org units, email prefixes) listed at once; 1 lists sequentially, unpartitioned. */
  SYNC_LISTING_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(32),
  /** Firestore's 500/50/5 write ramp for record writes; `auto`: on, except against the Firestore emulator. */
  SYNC_WRITE_RAMP: z.enum(['on', 'off', 'auto']).default('auto'),

  // api
  /** Where the admin console is served: CORS allow-list and where the OAuth flows send the browser back. */
  CONSOLE_ORIGIN: z
    .url()
    .default('http://127.0.0.1:5000')
    .transform((u) => new URL(u).origin),
  /** Shared secrets of the host product, which creates tenants and may trigger syncs: `keyId:secret,...`. */
  HOST_PRODUCT_HMAC_KEYS: hmacKeys,
  /** Sign-in redirect URI; defaults to /api/auth/callback on the origin of OAUTH_REDIRECT_URI. */
  SIGNIN_REDIRECT_URI: z.url().optional(),
  SYNC_WEBHOOK_MAX_REQUESTS: z.coerce.number().int().min(1).max(1000).default(10),
  SYNC_WEBHOOK_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  /** A console session ends after this long without a request (api/session-auth.ts). */
  SESSION_IDLE_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(8 * 3600),
  /** and at the latest this long after sign-in, however active. */
  SESSION_MAX_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(90 * 86_400)
    .default(7 * 86_400),

  // push
  /**
   * Public HTTPS URL of the push receiver (the api function's /api/push/google) that Google posts Directory
   * notifications to; unset: no channels are opened and Google users sync on the schedule only.
   */
  PUSH_RECEIVER_URL: optional(z.url()),
  /** Lifetime asked for each users.watch channel (Google caps it at 2 days). */
  PUSH_CHANNEL_TTL_SECONDS: z.coerce.number().int().min(60).max(172_800).default(172_800),
  /** A channel that expires within this is replaced by the tick; more than the longest gap between ticks. */
  PUSH_RENEW_BEFORE_SECONDS: z.coerce.number().int().min(0).max(172_800).default(86_400),

  // entra
  /** The service's own multi-tenant Entra app registration; unset: Microsoft Entra cannot be connected. */
  ENTRA_CLIENT_ID: optional(z.guid('must be the application (client) GUID')),
  /** Required with ENTRA_CLIENT_ID (checked in loadConfig: a rule across two variables). */
  ENTRA_CLIENT_SECRET: optional(z.string()),
  ENTRA_AUTHORITY_BASE_URL: z.url().default(DEFAULT_AUTHORITY_BASE_URL),
  ENTRA_GRAPH_BASE_URL: z.url().default(DEFAULT_GRAPH_BASE_URL),
  /** Admin-consent redirect URI; defaults to /oauth/entra/callback on the origin of OAUTH_REDIRECT_URI. */
  ENTRA_REDIRECT_URI: optional(z.url()),

  // notifications
  /** Attempts per webhook or email delivery before it is given up (each one is in the delivery log). */
  NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  NOTIFY_BACKOFF_INITIAL_MS: intMs(2000),
  NOTIFY_BACKOFF_MAX_MS: intMs(60_000),
  /** One webhook request or SMTP conversation may take this long. */
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Accept http:// webhook URLs on loopback hosts (the local stack and tests); otherwise https only. */
  NOTIFY_LOOPBACK_WEBHOOKS: z.enum(['true', 'false']).default('false'),
  /** SMTP server for notification email; unset: no email is sent (webhooks still are). */
  SMTP_HOST: optional(z.string().trim().min(1)),
  SMTP_PORT: z.coerce.number().int().min(1).max(65_535).default(587),
  /** `starttls` (required), `tls` (implicit TLS, usually port 465) or `none` (only for a local server). */
  SMTP_SECURITY: z.enum(['starttls', 'tls', 'none']).default('starttls'),
  /** SMTP user; its password is the Secret Manager secret `ws-smtp-password`. Unset: no authentication. */
  SMTP_USER: optional(z.string().min(1)),
  SMTP_FROM: z.string().min(3).default('notifications@workspace-sync.invalid'),

  // secrets
  // An empty value (e.g. `SECRET_MANAGER_EMULATOR_HOST=` in a .env file) means "not set".
  SECRET_MANAGER_EMULATOR_HOST: z
    .string()
    .trim()
    .optional()
    .transform((value) => value || undefined)
    .refine((value) => value === undefined || isEmulatorHost(value), 'must be host:port'),

  // log
  /** Case-insensitive as before; an unknown level is an error (it used to let every line through). */
  LOG_LEVEL: z.preprocess(
    (v) => (v === '' ? undefined : typeof v === 'string' ? v.toUpperCase() : v),
    z.enum(LOG_LEVELS).default('INFO'),
  ),
};

export const envSchema = z.object(envShape);

export type ConfigVariable = keyof typeof envShape;

/** The names of every variable the configuration reads. */
export const CONFIG_VARIABLES = Object.keys(envShape) as ConfigVariable[];

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
  /** Directory requests one tenant may send per budget window, across every instance. */
  tenantQpm: number;
  budgetWindowMs: number;
  backoff: { maxAttempts: number; initialDelayMs: number; maxDelayMs: number; multiplier: number };
  pageSize?: number;
  /** How many partitions of a partitioned full pass are listed at once. */
  listingConcurrency: number;
  /** Record writes follow Firestore's 500/50/5 ramp (engine/write-pacer.ts). */
  writeRamp: boolean;
}

/** Settings only the HTTP API needs. */
export interface ApiSettings {
  consoleOrigin: string;
  hostProductKeys: ReadonlyMap<string, string>;
  signinRedirectUri: string | null;
  syncRateLimit: { maxRequests: number; windowMs: number };
  /** Console sessions: idle timeout and absolute lifetime. */
  session: { idleMs: number; maxMs: number };
}

/** The service's Entra app registration. The secret is handed to the token endpoint only, never logged. */
export interface EntraServiceConfig {
  clientId: string;
  clientSecret: string;
  authorityBaseUrl: string;
  graphBaseUrl: string;
  /** null: derived from OAUTH_REDIRECT_URI (see entraRedirectUri). */
  redirectUri: string | null;
}

/** Where the secret store keeps refresh tokens; with emulatorHost, the local emulator over plaintext gRPC. */
export interface SecretsConfig {
  projectId: string;
  emulatorHost?: string;
}

/** Google push notifications for users (functions/src/push). */
export interface PushConfig {
  /** null: push is off. */
  receiverUrl: string | null;
  channelTtlSeconds: number;
  renewBeforeMs: number;
}

/** Outbound notifications (functions/src/notifications). */
export interface NotificationsConfig {
  maxAttempts: number;
  backoff: { initialDelayMs: number; maxDelayMs: number; multiplier: number };
  timeoutMs: number;
  allowLoopbackWebhooks: boolean;
  /** null: email is off. */
  smtp: SmtpConfig | null;
}

export interface SmtpConfig {
  host: string;
  port: number;
  security: 'starttls' | 'tls' | 'none';
  /** With a user, the password is read from Secret Manager (the secret SMTP_PASSWORD_SECRET_ID). */
  user: string | null;
  from: string;
}

/** The Secret Manager secret holding SMTP_USER's password. */
export const SMTP_PASSWORD_SECRET_ID = 'ws-smtp-password';

export interface LogConfig {
  level: LogLevel;
}

export interface RuntimeConfig {
  projectId: string;
  google: GoogleEndpoints;
  oauthClient: { clientId: string; clientSecret: string; redirectUri: string };
  sync: SyncConfig;
  api: ApiSettings;
  /** null when ENTRA_CLIENT_ID is unset: the Entra routes answer failed_precondition. */
  entra: EntraServiceConfig | null;
  secrets: SecretsConfig;
  log: LogConfig;
  push: PushConfig;
  notifications: NotificationsConfig;
}

export interface ConfigIssue {
  variable: string;
  message: string;
}

/** Every invalid variable at once, by name; values are never quoted (some are secrets). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly issues: readonly ConfigIssue[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const parsed = envSchema.safeParse(env);
  const issues: ConfigIssue[] = (parsed.error?.issues ?? []).map((i) => ({
    variable: i.path.join('.'),
    message: i.message,
  }));
  // Checked on the raw values so it is reported next to the schema's own issues, not after they are fixed.
  if (present(env.ENTRA_CLIENT_ID) && !present(env.ENTRA_CLIENT_SECRET)) {
    issues.push({ variable: 'ENTRA_CLIENT_SECRET', message: 'required with ENTRA_CLIENT_ID' });
  }
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues);
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
      budgetWindowMs: e.SYNC_BUDGET_WINDOW_MS,
      backoff: {
        maxAttempts: e.SYNC_MAX_ATTEMPTS,
        initialDelayMs: e.SYNC_BACKOFF_INITIAL_MS,
        maxDelayMs: e.SYNC_BACKOFF_MAX_MS,
        multiplier: 2,
      },
      ...(e.SYNC_PAGE_SIZE ? { pageSize: e.SYNC_PAGE_SIZE } : {}),
      listingConcurrency: e.SYNC_LISTING_CONCURRENCY,
      // The emulator has no key ranges to split: pacing there would only slow tests and the local stack. The
      // Firestore client reads the process environment, so that decides "against the emulator" too.
      writeRamp:
        e.SYNC_WRITE_RAMP === 'on' ||
        (e.SYNC_WRITE_RAMP === 'auto' &&
          !present(env.FIRESTORE_EMULATOR_HOST ?? process.env.FIRESTORE_EMULATOR_HOST)),
    },
    api: {
      consoleOrigin: e.CONSOLE_ORIGIN,
      hostProductKeys: e.HOST_PRODUCT_HMAC_KEYS,
      signinRedirectUri: e.SIGNIN_REDIRECT_URI ?? null,
      syncRateLimit: {
        maxRequests: e.SYNC_WEBHOOK_MAX_REQUESTS,
        windowMs: e.SYNC_WEBHOOK_WINDOW_SECONDS * 1000,
      },
      session: { idleMs: e.SESSION_IDLE_SECONDS * 1000, maxMs: e.SESSION_MAX_SECONDS * 1000 },
    },
    entra:
      e.ENTRA_CLIENT_ID && e.ENTRA_CLIENT_SECRET
        ? {
            clientId: e.ENTRA_CLIENT_ID,
            clientSecret: e.ENTRA_CLIENT_SECRET,
            authorityBaseUrl: e.ENTRA_AUTHORITY_BASE_URL,
            graphBaseUrl: e.ENTRA_GRAPH_BASE_URL,
            redirectUri: e.ENTRA_REDIRECT_URI ?? null,
          }
        : null,
    secrets: {
      projectId: e.GOOGLE_CLOUD_PROJECT,
      ...(e.SECRET_MANAGER_EMULATOR_HOST ? { emulatorHost: e.SECRET_MANAGER_EMULATOR_HOST } : {}),
    },
    log: { level: e.LOG_LEVEL },
    push: {
      receiverUrl: e.PUSH_RECEIVER_URL ?? null,
      channelTtlSeconds: e.PUSH_CHANNEL_TTL_SECONDS,
      renewBeforeMs: e.PUSH_RENEW_BEFORE_SECONDS * 1000,
    },
    notifications: {
      maxAttempts: e.NOTIFY_MAX_ATTEMPTS,
      backoff: {
        initialDelayMs: e.NOTIFY_BACKOFF_INITIAL_MS,
        maxDelayMs: e.NOTIFY_BACKOFF_MAX_MS,
        multiplier: 2,
      },
      timeoutMs: e.NOTIFY_TIMEOUT_MS,
      allowLoopbackWebhooks: e.NOTIFY_LOOPBACK_WEBHOOKS === 'true',
      smtp: e.SMTP_HOST
        ? {
            host: e.SMTP_HOST,
            port: e.SMTP_PORT,
            security: e.SMTP_SECURITY,
            user: e.SMTP_USER ?? null,
            from: e.SMTP_FROM,
          }
        : null,
    },
  };
}

/** The ENTRA_* variables' rule: empty counts as unset. */
function present(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
