import { ServerCredentials, type Server } from '@grpc/grpc-js';

const SHUTDOWN_GRACE_MS = 2_000;

export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Binds a local, plaintext gRPC server (port 0 picks a free one) and gives a close that cannot hang. */
export async function listenInsecure(
  server: Server,
  host: string,
  port: number,
): Promise<{ host: string; port: number; close(): Promise<void> }> {
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(host, port), ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  return {
    host: hostPort(host, bound),
    port: bound,
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
