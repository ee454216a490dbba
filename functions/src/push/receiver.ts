import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from '../api/api-error.js';
import { listEnabledMappings } from '../store/mappings.js';
import { PUSH_COVER_MARGIN_MS } from '../engine/decisions.js';
import { USER_WATCH_EVENTS, pushRunAlreadyAsked, readChannel, recordNotice } from '../store/push-channels.js';
import { readTenant } from '../store/tenants.js';
import { hashToken } from './channels.js';
import type { PushDeps } from './push-deps.js';

/**
 * Google's Directory push notifications (POST /api/push/google). Neither the host product nor an admin signs
 * them: a notification is authentic when its channel id names a channel we opened and its X-Goog-Channel-Token
 * is that channel's token (compared in constant time, as hashes, so neither the length nor a prefix leaks). An
 * unknown channel and a wrong token get the same 401; a stopped or expired channel a 403; nothing is recorded
 * for any of them. A valid change notification records the user as pending for the tenant and asks each of
 * its Google users mappings for a push run; the answer is 200 at once (Google retries on errors).
 */

const headersSchema = z.object({
  channelId: z.string().min(1).max(256),
  token: z.string().max(256).default(''),
  resourceId: z.string().min(1).max(256),
  resourceState: z.string().min(1).max(64),
  messageNumber: z.coerce.number().int().nonnegative(),
  expiration: z.string().max(100).optional(),
  resourceUri: z.string().max(2000).optional(),
});

/** The changed user, as Google posts it (a Directory User; only these fields matter here). */
const userBodySchema = z
  .object({
    kind: z.literal('admin#directory#user'),
    id: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/),
    primaryEmail: z.string().optional(),
    etag: z.string().optional(),
  })
  .loose();

const eventSchema = z.enum(USER_WATCH_EVENTS);

export interface NotificationRequest {
  header(name: string): string | undefined;
  /** The parsed JSON body (undefined when there is none). */
  body: unknown;
}

export type NotificationOutcome =
  | { kind: 'sync'; channelId: string }
  | { kind: 'recorded'; tenantId: string; userId: string; event: string; requested: number };

// Compared with something even when the channel is unknown, so an unknown id costs what a wrong token does.
const NO_TOKEN_HASH = hashToken('no channel has this token');

export async function receiveGoogleNotification(
  deps: PushDeps,
  req: NotificationRequest,
): Promise<NotificationOutcome> {
  const headers = headersSchema.safeParse({
    channelId: req.header('x-goog-channel-id'),
    token: req.header('x-goog-channel-token'),
    resourceId: req.header('x-goog-resource-id'),
    resourceState: req.header('x-goog-resource-state'),
    messageNumber: req.header('x-goog-message-number'),
    expiration: req.header('x-goog-channel-expiration'),
    resourceUri: req.header('x-goog-resource-uri'),
  });
  if (!headers.success) {
    throw new ApiError(
      'invalid_argument',
      'not a Google push notification',
      headers.error.issues.map((i) => ({ path: `header.${String(i.path[0] ?? '')}`, message: i.message })),
    );
  }
  const h = headers.data;
  const channel = await readChannel(deps.db, h.channelId);
  const given = Buffer.from(hashToken(h.token), 'hex');
  const expected = Buffer.from(channel?.tokenHash ?? NO_TOKEN_HASH, 'hex');
  const tokenOk = given.length === expected.length && timingSafeEqual(given, expected);
  // An empty resource id: users.watch has not answered yet (the channel is stored before asking); the token
  // authenticates the notification on its own until then.
  const resourceOk = channel?.resourceId === '' || channel?.resourceId === h.resourceId;
  if (!channel || !tokenOk || !resourceOk) {
    deps.log.warn('refused a push notification: unknown channel or wrong token', { channelId: h.channelId });
    throw new ApiError('unauthenticated', 'unknown notification channel or wrong channel token');
  }
  if (channel.status !== 'active' || channel.expiration <= deps.clock.now()) {
    throw new ApiError(
      'permission_denied',
      channel.status !== 'active'
        ? 'the notification channel was stopped'
        : 'the notification channel expired',
    );
  }
  if (h.resourceState === 'sync') return { kind: 'sync', channelId: channel.channelId };

  const event = eventSchema.safeParse(h.resourceState);
  if (!event.success || event.data !== channel.event) {
    throw new ApiError('invalid_argument', `unexpected X-Goog-Resource-State ${h.resourceState}`, [
      { path: 'header.resourceState', message: `this channel watches ${channel.event}` },
    ]);
  }
  const body = userBodySchema.safeParse(req.body);
  if (!body.success) {
    throw new ApiError(
      'invalid_argument',
      'the notification body is not a Directory user',
      body.error.issues.map((i) => ({ path: i.path.join('.') || 'body', message: i.message })),
    );
  }
  const { tenantId } = channel;
  const now = deps.clock.now();
  await recordNotice(
    deps.db,
    tenantId,
    { userId: body.data.id, event: event.data, channelId: channel.channelId, messageNumber: h.messageNumber },
    now,
  );
  const tenant = await readTenant(deps.db, tenantId);
  const mappings =
    tenant?.status === 'active'
      ? (await listEnabledMappings(deps.db, tenantId)).filter(
          (m) => m.source === 'google' && m.entity === 'users',
        )
      : [];
  // Coalesced twice: no request while one asked for earlier has not started its run yet (it will read this
  // notice), and the engine drops a request that a run started after its notification covers, running the
  // rest one after another (engine/decisions.leaseVerdict). A burst becomes a few back-to-back runs.
  let requested = 0;
  await Promise.all(
    mappings.map(async (m) => {
      if (await pushRunAlreadyAsked(deps.db, tenantId, m.id, now, PUSH_COVER_MARGIN_MS)) return;
      requested++;
      await deps.publishSync({
        kind: 'sync',
        tenantId,
        mappingId: m.id,
        requestId: `push:${channel.channelId}:${h.messageNumber}`,
        trigger: 'push',
        notifiedAt: now,
      });
    }),
  );
  return { kind: 'recorded', tenantId, userId: body.data.id, event: event.data, requested };
}
