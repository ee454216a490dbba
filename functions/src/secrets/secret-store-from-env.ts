import { ConfigError, loadConfig, type SecretsConfig } from '../platform/config.js';
import { createSecretManagerClient } from './secret-manager-client.js';
import { SecretManagerSecretStore } from './secret-manager-secret-store.js';
import { SecretStoreError } from './secret-store-error.js';

/**
 * With `emulatorHost` set, talks plaintext gRPC to the emulator and never looks for Google credentials;
 * otherwise uses Application Default Credentials against secretmanager.googleapis.com.
 */
export function createSecretStore(config: SecretsConfig): SecretManagerSecretStore {
  return new SecretManagerSecretStore({
    projectId: config.projectId,
    client: createSecretManagerClient(config),
  });
}

export interface SecretStoreEnv {
  GOOGLE_CLOUD_PROJECT: string;
  SECRET_MANAGER_EMULATOR_HOST?: string | undefined;
}

/**
 * The secrets section of platform/config for a store built from an environment of its own (test harnesses,
 * the benchmark). Unlike the service's configuration it has no default project: a store must not quietly
 * read and write secrets in a project nobody named.
 */
export function parseSecretStoreEnv(env: NodeJS.ProcessEnv = process.env): SecretStoreEnv {
  try {
    // Unset becomes empty, which the project id rule rejects, so the configuration's default does not apply.
    const { secrets } = loadConfig({ ...env, GOOGLE_CLOUD_PROJECT: env.GOOGLE_CLOUD_PROJECT ?? '' });
    return { GOOGLE_CLOUD_PROJECT: secrets.projectId, SECRET_MANAGER_EMULATOR_HOST: secrets.emulatorHost };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.issues.map((i) => `${i.variable}: ${i.message}`);
    throw new SecretStoreError('INVALID_CONFIGURATION', `Secret store configuration: ${problems.join('; ')}`);
  }
}

export function createSecretStoreFromEnv(env: NodeJS.ProcessEnv = process.env): SecretManagerSecretStore {
  const { GOOGLE_CLOUD_PROJECT: projectId, SECRET_MANAGER_EMULATOR_HOST: emulatorHost } =
    parseSecretStoreEnv(env);
  return createSecretStore({ projectId, ...(emulatorHost ? { emulatorHost } : {}) });
}
