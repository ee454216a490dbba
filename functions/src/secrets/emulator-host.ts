import { SecretStoreError } from './secret-store-error.js';

// Its own module, free of gRPC, so the start-up configuration can check the value with the same rule.
const HOST_PORT = /^(?:\[([^\]]+)\]|([^:\s[\]]+)):(\d{1,5})$/;

/** `host:port` or `[ipv6]:port`, the way the gcloud emulators print their address. */
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

export function isEmulatorHost(value: string): boolean {
  try {
    parseEmulatorHost(value);
    return true;
  } catch {
    return false;
  }
}
