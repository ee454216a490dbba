import grpc from '@grpc/grpc-js';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { SecretStoreError } from './secret-store-error.js';

export type SecretManagerClientOptions = NonNullable<
  ConstructorParameters<typeof SecretManagerServiceClient>[0]
>;

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/;

export function parseEmulatorHost(value: string): { hostname: string; port: number } {
  const match = HOST_PORT.exec(value.trim());
  const hostname = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (hostname === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SecretStoreError(
      'INVALID_CONFIGURATION',
      `SECRET_MANAGER_EMULATOR_HOST must be host:port, got [${value}].`,
    );
  }
  return { hostname, port };
}

/**
 * Options that point the real client at the local emulator over plaintext gRPC without ever touching
 * Google credentials:
 * - `sslCreds` short-circuits google-gax's credential setup (it otherwise combines TLS with an
 *   OAuth token from google-auth-library);
 * - `grpc` pins the @grpc/grpc-js instance: grpc-js rejects credentials created by another copy
 *   (`instanceof ChannelCredentials`), which would happen if google-gax ever got a nested copy;
 * - `universeDomain` answers google-gax's pre-connect universe check, which otherwise calls
 *   `auth.getClient()` and so searches for ADC and probes the GCE metadata server.
 */
export function emulatorClientOptions(emulatorHost: string, projectId: string): SecretManagerClientOptions {
  const { hostname, port } = parseEmulatorHost(emulatorHost);
  return {
    // google-gax joins `${apiEndpoint}:${port}`, so an IPv6 literal needs its brackets back.
    apiEndpoint: hostname.includes(':') ? `[${hostname}]` : hostname,
    port,
    projectId,
    grpc,
    sslCreds: grpc.credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  };
}

export function createSecretManagerClient(opts: {
  projectId: string;
  emulatorHost?: string;
}): SecretManagerServiceClient {
  return new SecretManagerServiceClient(
    opts.emulatorHost
      ? emulatorClientOptions(opts.emulatorHost, opts.projectId)
      : { projectId: opts.projectId },
  );
}
