import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorState } from './state.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  state: SimulatorState;
  /** Route name the request is counted under in `/_control/stats`; undefined = not counted. */
  route: string | undefined;
}

/** A route handler returns false when the path is not its own, so the next module can try. */
export type RouteHandler = (ctx: RequestContext) => Promise<boolean>;
