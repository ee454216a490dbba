import grpc from '@grpc/grpc-js';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { parseEmulatorHost } from './emulator-host.js';

export { parseEmulatorHost };

export type SecretManagerClientOptions = NonNullable<
  ConstructorParameters<typeof SecretManagerServiceClient>[0]
>;

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
