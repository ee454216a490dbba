import { z } from 'zod';
import { createSecretManagerClient } from './secret-manager-client.js';
import { SecretManagerSecretStore } from './secret-manager-secret-store.js';
import { SecretStoreError } from './secret-store-error.js';

// Project ids are 6-30 chars; legacy domain-scoped ones carry an `example.com:` prefix.
const PROJECT_ID = /^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

const secretStoreEnvSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string().trim().regex(PROJECT_ID, 'must be a Google Cloud project id'),
  // An empty value (e.g. `SECRET_MANAGER_EMULATOR_HOST=` in a .env file) means "not set".
  SECRET_MANAGER_EMULATOR_HOST: z
    .string()
    .trim()
    .optional()
    .transform((value) => value || undefined),
});

export type SecretStoreEnv = z.infer<typeof secretStoreEnvSchema>;

export function parseSecretStoreEnv(env: NodeJS.ProcessEnv = process.env): SecretStoreEnv {
  const parsed = secretStoreEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new SecretStoreError('INVALID_CONFIGURATION', `Secret store configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/**
 * With SECRET_MANAGER_EMULATOR_HOST set, talks plaintext gRPC to the emulator and never looks for
 * Google credentials; otherwise uses Application Default Credentials against secretmanager.googleapis.com.
 */
export function createSecretStoreFromEnv(env: NodeJS.ProcessEnv = process.env): SecretManagerSecretStore {
  const { GOOGLE_CLOUD_PROJECT: projectId, SECRET_MANAGER_EMULATOR_HOST: emulatorHost } =
    parseSecretStoreEnv(env);
  return new SecretManagerSecretStore({
    projectId,
    client: createSecretManagerClient({ projectId, emulatorHost }),
  });
}
