import { json, type ApiResult } from '../api/http.js';
import type { RouteContext } from '../api/route-context.js';
import type { Route } from '../api/router.js';
import { pushDepsOf } from './push-deps.js';
import { receiveGoogleNotification } from './receiver.js';

/**
 * POST /api/push/google — Google's Directory notifications. `public` for the router: the receiver itself
 * authenticates each notification by its channel id and token (push/receiver.ts).
 */
async function googleNotification(ctx: RouteContext): Promise<ApiResult> {
  const raw = ctx.req.rawBody;
  let body: unknown;
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      body = undefined; // judged by the receiver's schema: a change without a user body is refused
    }
  }
  const outcome = await receiveGoogleNotification(pushDepsOf(ctx.app), {
    header: (name) => ctx.req.header(name),
    body,
  });
  return json(200, { received: outcome.kind });
}

export const pushRoutes: Array<Route<RouteContext>> = [
  {
    method: 'POST',
    pattern: '/api/push/google',
    access: { kind: 'public' },
    handle: googleNotification,
    doc: {
      summary: "Google's Directory push notifications (users.watch); for Google, not for clients",
      description: 'Authenticated by the channel id and token Google echoes (`X-Goog-Channel-*` headers).',
      responses: { 200: { description: '`{received}`: what the receiver did with it.' } },
    },
  },
];
