import type { GraphSimulatorStats } from './control-schemas.js';
import { FaultInjector } from './fault-injector.js';
import { GraphDirectory } from './graph-directory.js';

export interface SimulatorContext {
  directory: GraphDirectory;
  faults: FaultInjector;
  stats: Omit<GraphSimulatorStats, 'faultsFired'>;
}

export function emptyStats(): SimulatorContext['stats'] {
  return {
    requests: { token: 0, adminConsent: 0, users: 0, delta: 0, other: 0 },
    statuses: {},
    tokensIssued: 0,
  };
}

export function createSimulatorContext(): SimulatorContext {
  return { directory: new GraphDirectory(), faults: new FaultInjector(), stats: emptyStats() };
}

/** Everything a handler can ask the server to send. */
export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'redirect'; location: string };
