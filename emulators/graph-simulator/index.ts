import type { AddressInfo } from 'node:net';
import { createGraphSimulatorServer } from './server.js';
import { createSimulatorContext } from './simulator-context.js';

export interface GraphSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
}

export interface RunningGraphSimulator {
  /** Base URL serving both roles: use it as authorityBaseUrl and as graphBaseUrl. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Microsoft identity platform + Graph v1.0 users, in memory, over real HTTP. */
export async function startGraphSimulator(
  options: GraphSimulatorOptions = {},
): Promise<RunningGraphSimulator> {
  const host = options.host ?? '127.0.0.1';
  const server = createGraphSimulatorServer(createSimulatorContext());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets from fetch would otherwise hold close() open until they time out.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export { GraphSimulatorControl, GraphSimulatorControlError } from './control-client.js';
export type {
  AddUserInput,
  AppRegistration,
  ControlUser,
  CreateTenantInput,
  FaultInput,
  FaultView,
  GraphSimulatorStats,
  RegisterAppInput,
  TenantView,
  UpdateUserInput,
} from './control-schemas.js';
export type { DirectoryUser } from './directory-user.js';
