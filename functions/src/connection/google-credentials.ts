import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { SecretStore } from '../secrets/secret-store.js';
import type { GoogleAuthSettings } from '../store/tenants.js';

/**
 * A tenant's Google credential in each connection mode, put together from the tenant document (which mode,
 * which client id, which service account and admin: never a secret) and Secret Manager (refresh token, client
 * secret, key). Every secret of every mode has its own secret per tenant (secrets/secret-store.ts).
 */
export type GoogleCredential =
  | { mode: 'service_client'; refreshToken: string }
  | { mode: 'tenant_client'; clientId: string; clientSecret: string; refreshToken: string }
  | { mode: 'service_account'; key: ServiceAccountKey; subject: string };

/**
 * The JSON key the Cloud console downloads (IAM > Service accounts > Keys > Add key > JSON). Only the fields we
 * use are required; the rest (auth_uri, token_uri, …) are Google's endpoints, which come from our configuration.
 */
export const serviceAccountKeySchema = z
  .object({
    type: z.literal('service_account'),
    project_id: z.string().min(1).max(100).optional(),
    private_key_id: z.string().regex(/^[A-Za-z0-9]{8,64}$/),
    private_key: z
      .string()
      .max(8000)
      .regex(/^-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----\s*$/),
    client_email: z.email().max(254),
    client_id: z.string().regex(/^\d{1,30}$/),
  })
  .loose();
export type ServiceAccountKey = z.infer<typeof serviceAccountKeySchema>;

/** A stored key back from Secret Manager; null when it no longer parses (then the tenant must upload again). */
export function parseStoredKey(json: string): ServiceAccountKey | null {
  try {
    const parsed = serviceAccountKeySchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** What is stored of a key: the fields we use, nothing the upload carried besides. */
export function storedKeyJson(key: ServiceAccountKey): string {
  return JSON.stringify({
    type: key.type,
    project_id: key.project_id,
    private_key_id: key.private_key_id,
    private_key: key.private_key,
    client_email: key.client_email,
    client_id: key.client_id,
  });
}

export interface GoogleCredentialDeps {
  secrets: Pick<SecretStore, 'getRefreshToken'>;
  readGoogleAuth(tenantId: string): Promise<GoogleAuthSettings>;
}

/** The tenant's credential as its mode says, or null when a piece of it is missing (not connected). */
export async function loadGoogleCredential(
  deps: GoogleCredentialDeps,
  tenantId: string,
): Promise<GoogleCredential | null> {
  const settings = await deps.readGoogleAuth(tenantId);
  switch (settings.mode) {
    case 'service_account': {
      const subject = settings.serviceAccount?.subject;
      const stored = await deps.secrets.getRefreshToken(tenantId, 'google_sa');
      const key = stored ? parseStoredKey(stored) : null;
      return key && subject ? { mode: 'service_account', key, subject } : null;
    }
    case 'tenant_client': {
      const clientId = settings.tenantClient?.clientId;
      const [refreshToken, clientSecret] = await Promise.all([
        deps.secrets.getRefreshToken(tenantId, 'google'),
        deps.secrets.getRefreshToken(tenantId, 'google_client'),
      ]);
      return clientId && refreshToken && clientSecret
        ? { mode: 'tenant_client', clientId, clientSecret, refreshToken }
        : null;
    }
    case 'service_client': {
      const refreshToken = await deps.secrets.getRefreshToken(tenantId, 'google');
      return refreshToken ? { mode: 'service_client', refreshToken } : null;
    }
  }
}

/** Tells two credentials apart (a cached client is reused only for the same one); a hash, not the secrets. */
export function credentialIdentity(c: GoogleCredential): string {
  const parts =
    c.mode === 'service_account'
      ? [c.mode, c.key.client_email, c.key.private_key_id, c.subject]
      : c.mode === 'tenant_client'
        ? [c.mode, c.clientId, c.refreshToken, c.clientSecret]
        : [c.mode, c.refreshToken];
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url');
}
