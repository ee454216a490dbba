import type { z } from 'zod';
import { BodyTooLargeError, readBody } from './http-util.js';
import type { RequestContext } from './request-context.js';
import type { SimulatorState } from './state.js';
import type { Workspace } from './workspace.js';

/** Plumbing shared by the `/_control` route tables: errors, zod-validated bodies, workspace lookup. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: unknown,
  ) {
    super(message);
  }
}

async function jsonBody(ctx: RequestContext): Promise<unknown> {
  let raw: string;
  try {
    raw = (await readBody(ctx.req, 10 * 1024 * 1024)).toString('utf8');
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new ControlError(413, err.message);
    throw err;
  }
  if (!raw.trim()) return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new ControlError(400, 'request body is not valid JSON');
  }
}

export async function parseBody<S extends z.ZodType>(ctx: RequestContext, schema: S): Promise<z.output<S>> {
  const result = schema.safeParse(await jsonBody(ctx));
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ControlError(
      400,
      `invalid request body: ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return result.data;
}

export function requireWorkspace(state: SimulatorState, ref: string): Workspace {
  const ws = state.workspace(ref) ?? state.workspaceForDomain(ref);
  if (!ws) throw new ControlError(404, `no workspace ${ref}`);
  return ws;
}

export type Handler = (ctx: RequestContext, params: string[]) => Promise<unknown>;

export interface Route {
  method: string;
  pattern: RegExp;
  handle: Handler;
}

export const SEG = '([^/]+)';
