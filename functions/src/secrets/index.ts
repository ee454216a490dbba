export { IDENTITY_PROVIDERS, type IdentityProvider, type SecretStore } from './secret-store.js';
export { SecretStoreError, type SecretStoreErrorCode } from './secret-store-error.js';
export { assertValidTenantId, secretIdForTenant } from './secret-id.js';
export { SecretManagerSecretStore } from './secret-manager-secret-store.js';
export {
  createSecretManagerClient,
  emulatorClientOptions,
  parseEmulatorHost,
  type SecretManagerClientOptions,
} from './secret-manager-client.js';
export {
  createSecretStore,
  createSecretStoreFromEnv,
  parseSecretStoreEnv,
  type SecretStoreEnv,
} from './secret-store-from-env.js';
