import { z } from 'zod';
import type { Route } from './control-http.js';
import { parseBody } from './control-http.js';

const dropSchema = z.strictObject({ count: z.number().int().min(0).max(1_000_000) });

/** Push channels as the simulator holds them, and the fault that loses notifications (tests of the backstop). */
export const WATCH_CONTROL_ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /^watch-channels$/,
    handle: async (ctx) => ({
      channels: ctx.state.watch.list().map((c) => ({
        id: c.id,
        resourceId: c.resourceId,
        customerId: c.customerId,
        event: c.event ?? null,
        address: c.address,
        expiration: c.expiration,
        stopped: c.stopped,
        messageNumber: c.messageNumber,
        delivered: c.delivered,
        failed: c.failed,
        dropped: c.dropped,
      })),
      dropped: ctx.state.watch.dropped,
    }),
  },
  {
    method: 'POST',
    pattern: /^watch-channels\/drop-notifications$/,
    handle: async (ctx) => {
      ctx.state.watch.dropNext += (await parseBody(ctx, dropSchema)).count;
      return { pending: ctx.state.watch.dropNext };
    },
  },
];
