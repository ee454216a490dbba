import { z } from 'zod';
import { DEFAULT_AUTHORITY_BASE_URL, DEFAULT_GRAPH_BASE_URL } from '../sources/entra/entra-connection.js';

/**
 * Settings only the HTTP API needs, read from the environment next to the platform configuration. Parsed once
 * per handler; a bad value fails at start with the variable's name instead of at the first request.
 */
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

const apiEnvSchema = z.object({
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
  /** The service's own multi-tenant Entra app registration; unset: Microsoft Entra cannot be connected. */
  ENTRA_CLIENT_ID: optional(z.guid('must be the application (client) GUID')),
  ENTRA_CLIENT_SECRET: optional(z.string()),
  ENTRA_AUTHORITY_BASE_URL: z.url().default(DEFAULT_AUTHORITY_BASE_URL),
  ENTRA_GRAPH_BASE_URL: z.url().default(DEFAULT_GRAPH_BASE_URL),
  /** Admin-consent redirect URI; defaults to /oauth/entra/callback on the origin of OAUTH_REDIRECT_URI. */
  ENTRA_REDIRECT_URI: optional(z.url()),
});

/** An empty variable counts as unset. */
function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
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

export interface ApiConfig {
  consoleOrigin: string;
  hostProductKeys: ReadonlyMap<string, string>;
  signinRedirectUri: string | null;
  syncRateLimit: { maxRequests: number; windowMs: number };
  /** null when ENTRA_CLIENT_ID is unset: the Entra routes answer failed_precondition. */
  entra: EntraServiceConfig | null;
}

export class ApiConfigError extends Error {}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = apiEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ApiConfigError(`invalid API configuration: ${issues}`);
  }
  const e = parsed.data;
  if (e.ENTRA_CLIENT_ID && !e.ENTRA_CLIENT_SECRET) {
    throw new ApiConfigError('invalid API configuration: ENTRA_CLIENT_SECRET: required with ENTRA_CLIENT_ID');
  }
  return {
    consoleOrigin: e.CONSOLE_ORIGIN,
    hostProductKeys: e.HOST_PRODUCT_HMAC_KEYS,
    signinRedirectUri: e.SIGNIN_REDIRECT_URI ?? null,
    syncRateLimit: {
      maxRequests: e.SYNC_WEBHOOK_MAX_REQUESTS,
      windowMs: e.SYNC_WEBHOOK_WINDOW_SECONDS * 1000,
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
  };
}
