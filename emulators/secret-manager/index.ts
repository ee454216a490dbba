import { Server, ServerCredentials } from '@grpc/grpc-js';
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

const SHUTDOWN_GRACE_MS = 2_000;

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export async function startSecretManagerEmulator(
  options: SecretManagerEmulatorOptions = {},
): Promise<RunningSecretManagerEmulator> {
  const host = options.host ?? '127.0.0.1';
  const definition = loadSecretManagerServiceDefinition();
  const server = new Server();
  server.addService(definition, secretManagerImplementation(definition, new InMemorySecretManager()));

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(host, options.port ?? 0), ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });

  return {
    host: hostPort(host, port),
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Clients keep channels open; don't let one that never disconnects hold up test teardown.
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

export { InMemorySecretManager, MAX_PAYLOAD_BYTES } from './in-memory-secret-manager.js';
