import { Server } from '@grpc/grpc-js';
import { listenInsecure } from '../grpc-support/insecure-server.js';
import { InMemorySecretManager } from './in-memory-secret-manager.js';
import { loadSecretManagerServiceDefinition } from './proto.js';
import { secretManagerImplementation } from './service.js';

export interface SecretManagerEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

export interface RunningSecretManagerEmulator {
  /** `host:port`, the value for SECRET_MANAGER_EMULATOR_HOST. */
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startSecretManagerEmulator(
  options: SecretManagerEmulatorOptions = {},
): Promise<RunningSecretManagerEmulator> {
  const host = options.host ?? '127.0.0.1';
  const definition = loadSecretManagerServiceDefinition();
  const server = new Server();
  server.addService(definition, secretManagerImplementation(definition, new InMemorySecretManager()));

  return listenInsecure(server, host, options.port ?? 0);
}

export { InMemorySecretManager, MAX_PAYLOAD_BYTES } from './in-memory-secret-manager.js';
