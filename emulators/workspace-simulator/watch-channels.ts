import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { DirectoryCall } from './directory-handlers.js';
import { requireOwnCustomer } from './directory-handlers.js';
import { badRequest, forbidden, invalidParameterValue, notFound } from './errors.js';
import type { UserRecord } from './model.js';
import { renderUser } from './user-resource.js';
import type { Workspace } from './workspace.js';

/**
 * Directory API push notifications (https://developers.google.com/admin-sdk/directory/v1/guides/push):
 * users.watch opens a channel on a customer's or a domain's users for one event, channels.stop closes it, and
 * each change to a watched user is POSTed to the channel's address with Google's X-Goog-* headers and the user
 * as the body. A new channel first receives a `sync` message (number 1, no body). Deliveries of a channel go
 * out one at a time in message-number order; an answer other than 2xx/102 is retried with exponential backoff
 * (the simulator's choice of schedule: 4 attempts, 100 ms doubling). Expired and stopped channels get nothing.
 */

export const USER_WATCH_EVENTS = ['add', 'delete', 'makeAdmin', 'undelete', 'update'] as const;
export type UserWatchEvent = (typeof USER_WATCH_EVENTS)[number];

/** Schema$Channel: `params.ttl` defaults to 2 hours and is capped at 2 days. */
export const DEFAULT_TTL_SECONDS = 2 * 3600;
export const MAX_TTL_SECONDS = 2 * 24 * 3600;

const RETRY_ATTEMPTS = 4;
const RETRY_BASE_MS = 100;

export interface WatchChannel {
  id: string;
  token: string | undefined;
  address: string;
  expiration: number;
  resourceId: string;
  resourceUri: string;
  customerId: string;
  domain: string | undefined;
  event: UserWatchEvent | undefined;
  stopped: boolean;
  messageNumber: number;
  delivered: number;
  failed: number;
  /** Lost to the drop-notifications fault. */
  dropped: number;
}

const channelBody = z
  .object({
    id: z.string().min(1).max(64),
    type: z.enum(['web_hook', 'webhook']),
    address: z.url(),
    token: z.string().max(256).optional(),
    expiration: z.coerce.number().int().positive().optional(),
    params: z.object({ ttl: z.coerce.number().int().positive().optional() }).loose().optional(),
  })
  .loose();

const stopBody = z.object({ id: z.string().min(1), resourceId: z.string().min(1) }).loose();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class WatchChannels {
  private readonly channels = new Map<string, WatchChannel>();
  private readonly queues = new Map<string, Promise<void>>();
  /** Fault: the next N notifications (of any channel) are silently lost. */
  dropNext = 0;
  dropped = 0;
  /** Base URL the resourceUri is built on (the simulator's public URL). */
  baseUrl = '';

  list(): WatchChannel[] {
    return [...this.channels.values()];
  }

  watch(call: DirectoryCall): Record<string, unknown> {
    const customer = call.params.get('customer');
    const domain = call.params.get('domain')?.toLowerCase();
    if (!customer && !domain) throw badRequest();
    let ws = call.ws;
    if (customer) ws = requireOwnCustomer(call, customer);
    if (domain && call.state.workspaceForDomain(domain)?.customerId !== ws.customerId) throw forbidden();
    const eventParam = call.params.get('event');
    const event = eventParam === undefined ? undefined : z.enum(USER_WATCH_EVENTS).safeParse(eventParam);
    if (event && !event.success)
      throw invalidParameterValue('event', `Invalid value '${eventParam}' for event`);
    const parsed = channelBody.safeParse(call.body);
    if (!parsed.success)
      throw badRequest(`Invalid channel: ${parsed.error.issues[0]?.message ?? 'bad body'}`);
    const body = parsed.data;
    if (this.channels.has(body.id)) throw badRequest(`Channel id ${body.id} not unique`);
    const now = Date.now();
    const ttlMs = Math.min((body.params?.ttl ?? DEFAULT_TTL_SECONDS) * 1000, MAX_TTL_SECONDS * 1000);
    // An explicit expiration wins over the ttl, but never beyond Google's maximum.
    const expiration = Math.min(body.expiration ?? now + ttlMs, now + MAX_TTL_SECONDS * 1000);
    const query = new URLSearchParams({
      ...(customer ? { customer } : {}),
      ...(domain ? { domain } : {}),
      ...(event?.data ? { event: event.data } : {}),
      alt: 'json',
    });
    const resourceUri = `${this.baseUrl}/admin/directory/v1/users?${query.toString()}`;
    const channel: WatchChannel = {
      id: body.id,
      token: body.token,
      address: body.address,
      expiration,
      resourceId: createHash('sha256')
        .update(`${ws.customerId}|${resourceUri}`)
        .digest('base64url')
        .slice(0, 27),
      resourceUri,
      customerId: ws.customerId,
      domain,
      event: event?.data,
      stopped: false,
      messageNumber: 0,
      delivered: 0,
      failed: 0,
      dropped: 0,
    };
    this.channels.set(channel.id, channel);
    this.enqueue(channel, 'sync', undefined);
    return {
      kind: 'api#channel',
      id: channel.id,
      resourceId: channel.resourceId,
      resourceUri: channel.resourceUri,
      ...(channel.token !== undefined ? { token: channel.token } : {}),
      expiration: String(channel.expiration),
    };
  }

  stop(call: DirectoryCall): null {
    const parsed = stopBody.safeParse(call.body);
    if (!parsed.success) throw badRequest('Invalid channel');
    const channel = this.channels.get(parsed.data.id);
    if (
      !channel ||
      channel.resourceId !== parsed.data.resourceId ||
      channel.customerId !== call.ws.customerId
    ) {
      throw notFound(`Channel '${parsed.data.id}' not found for project`);
    }
    channel.stopped = true;
    return null;
  }

  /** A user of `ws` changed through the control API: notify every live channel that watches it. */
  notify(ws: Workspace, event: UserWatchEvent, user: UserRecord): void {
    const now = Date.now();
    for (const c of this.channels.values()) {
      if (c.stopped || c.expiration <= now || c.customerId !== ws.customerId) continue;
      if (c.event !== undefined && c.event !== event) continue;
      if (c.domain !== undefined && !user.primaryEmail.endsWith(`@${c.domain}`)) continue;
      const rendered = renderUser(ws, user, { projection: 'full' });
      this.enqueue(c, event, {
        kind: 'admin#directory#user',
        id: user.id,
        etag: rendered.etag,
        primaryEmail: user.primaryEmail,
      });
    }
  }

  private enqueue(c: WatchChannel, state: string, body: Record<string, unknown> | undefined): void {
    const number = ++c.messageNumber;
    if (state !== 'sync' && this.dropNext > 0) {
      this.dropNext--;
      this.dropped++;
      c.dropped++;
      return;
    }
    const previous = this.queues.get(c.id) ?? Promise.resolve();
    const next = previous.then(() => this.deliver(c, state, number, body));
    this.queues.set(c.id, next);
  }

  private async deliver(
    c: WatchChannel,
    state: string,
    number: number,
    body: Record<string, unknown> | undefined,
  ): Promise<void> {
    const payload = body ? JSON.stringify(body) : '';
    for (let attempt = 0; attempt < RETRY_ATTEMPTS; attempt++) {
      if (c.stopped || c.expiration <= Date.now()) return;
      try {
        const res = await fetch(c.address, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=UTF-8',
            'x-goog-channel-id': c.id,
            ...(c.token !== undefined ? { 'x-goog-channel-token': c.token } : {}),
            'x-goog-channel-expiration': new Date(c.expiration).toUTCString(),
            'x-goog-resource-id': c.resourceId,
            'x-goog-resource-uri': c.resourceUri,
            'x-goog-resource-state': state,
            'x-goog-message-number': String(number),
          },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer().catch(() => undefined);
        if ((res.status >= 200 && res.status < 300) || res.status === 102) {
          c.delivered++;
          return;
        }
        // Google retries only what may succeed later.
        if (![500, 502, 503, 504].includes(res.status)) {
          c.failed++;
          return;
        }
      } catch {
        // network error: retried like a 5xx
      }
      await sleep(RETRY_BASE_MS * 2 ** attempt);
    }
    c.failed++;
  }

  reset(): void {
    for (const c of this.channels.values()) c.stopped = true;
    this.channels.clear();
    this.queues.clear();
    this.dropNext = 0;
    this.dropped = 0;
  }
}
