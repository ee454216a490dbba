import type { SecretsConfig } from '../platform/config.js';
import type { IdentityProvider, SecretStore } from './secret-store.js';
import type { SecretManagerSecretStore } from './secret-manager-secret-store.js';

/**
 * The Secret Manager store, built when a secret is first read or written. Its gRPC client costs a cold instance
 * ~0.2 s and ~25 MiB to load, and most requests (every api route but connect/check/revoke, tick, deadLetter)
 * never touch a secret.
 */
export function lazySecretStore(config: SecretsConfig): SecretStore & { close(): Promise<void> } {
  let store: Promise<SecretManagerSecretStore> | null = null;
  const get = () => (store ??= import('./secret-store-from-env.js').then((m) => m.createSecretStore(config)));
  return {
    putRefreshToken: async (tenantId: string, token: string, provider?: IdentityProvider) =>
      (await get()).putRefreshToken(tenantId, token, provider),
    getRefreshToken: async (tenantId: string, provider?: IdentityProvider) =>
      (await get()).getRefreshToken(tenantId, provider),
    destroyRefreshToken: async (tenantId: string, provider?: IdentityProvider) =>
      (await get()).destroyRefreshToken(tenantId, provider),
    putWebhookSecret: async (tenantId: string, secret: string) =>
      (await get()).putWebhookSecret(tenantId, secret),
    getWebhookSecret: async (tenantId: string) => (await get()).getWebhookSecret(tenantId),
    getServiceSecret: async (secretId: string) => (await get()).getServiceSecret(secretId),
    // Closing a store that was never used must not load the client just to close it.
    close: async () => {
      if (store) await (await store).close();
    },
  };
}
