import { backoffDelay } from '../engine/backoff-delay.js';
import type { Clock } from '../platform/clock.js';
import type { NotificationsConfig } from '../platform/config.js';
import type { Logger } from '../platform/log.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { Db } from '../store/firestore.js';
import { listMembers } from '../store/members.js';
import { recordDeliveryAttempt, type Delivery } from '../store/notification-deliveries.js';
import {
  CHANNELS,
  readOutboxEvent,
  type Channel,
  type ChannelState,
  type OutboxEvent,
} from '../store/notification-outbox.js';
import { readNotificationSettings } from '../store/notification-settings.js';
import { readTenant } from '../store/tenants.js';
import type { EventBody } from './events.js';
import { emailFor, type SendMail } from './mailer.js';
import { notificationMessageSchema } from './publisher.js';
import { webhookUrlProblem } from './webhook-url.js';
import { webhookSignatureHeaders } from './webhook-signature.js';

export interface DeliverDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  secrets: SecretStore;
  config: NotificationsConfig;
  /** Where email links point. */
  consoleOrigin: string;
  /** null: SMTP is not configured (an email channel is given up at once). */
  sendMail: SendMail | null;
}

export type DeliverOutcome =
  | { status: 'dropped'; reason: string }
  | { status: 'done'; channels: Partial<Record<Channel, ChannelState['status']>> };

interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  target: string;
  /** Trying again cannot help (no secret, no recipient): give up now. */
  permanent?: boolean;
}

/**
 * Delivers one outbox event on each of its pending channels: attempts with exponential backoff and jitter
 * (NOTIFY_BACKOFF_*), at most NOTIFY_MAX_ATTEMPTS per channel, each attempt in the delivery log with the
 * channel's new state. The retries run in this invocation (well inside the subscription's ack deadline), so
 * their timing does not depend on Pub/Sub's redelivery; a crash mid-way is redelivered by Pub/Sub and goes on
 * from the attempts recorded. Resolves (acks) once every channel is delivered or given up.
 */
export async function deliverNotification(deps: DeliverDeps, payload: unknown): Promise<DeliverOutcome> {
  const parsed = notificationMessageSchema.safeParse(payload);
  if (!parsed.success) {
    deps.log.warn('rejected malformed notification message');
    return { status: 'dropped', reason: 'malformed message' };
  }
  const { tenantId, eventId } = parsed.data;
  let event = await readOutboxEvent(deps.db, tenantId, eventId);
  if (!event) return { status: 'dropped', reason: 'no such event' };
  const log = deps.log.child({ tenantId, eventId, type: event.type });
  const channels: Partial<Record<Channel, ChannelState['status']>> = {};
  for (const channel of CHANNELS) {
    let state = event.channels[channel];
    while (state?.status === 'pending') {
      const attempt = state.attempts + 1;
      if (attempt > 1) {
        await deps.clock.sleep(
          backoffDelay({ ...deps.config.backoff, maxAttempts: deps.config.maxAttempts }, attempt - 1),
        );
      }
      const started = deps.clock.now();
      const result = await attemptChannel(deps, event, channel, state).catch(
        (err: unknown): AttemptResult => ({
          ok: false,
          statusCode: null,
          error: err instanceof Error ? err.message : String(err),
          target: state?.target ?? channel,
        }),
      );
      const now = deps.clock.now();
      const outcome: Delivery['outcome'] = result.ok
        ? 'delivered'
        : result.permanent || attempt >= deps.config.maxAttempts
          ? 'gave_up'
          : 'failed';
      const at = new Date(now).toISOString();
      const next: ChannelState = {
        status: outcome === 'failed' ? 'pending' : outcome,
        attempts: attempt,
        lastAttemptAt: at,
        lastError: result.error,
        target: state.target,
      };
      await recordDeliveryAttempt(
        deps.db,
        tenantId,
        event,
        {
          id: `${eventId}-${channel}-${attempt}`,
          eventId,
          type: event.type,
          channel,
          attempt,
          at,
          outcome,
          statusCode: result.statusCode,
          error: result.error,
          durationMs: Math.max(0, now - started),
          target: result.target,
        },
        next,
        now,
      );
      if (outcome !== 'delivered')
        log.warn('notification attempt failed', { channel, attempt, outcome, error: result.error });
      event = { ...event, channels: { ...event.channels, [channel]: next } } as OutboxEvent;
      state = next;
    }
    if (state) channels[channel] = state.status;
  }
  return { status: 'done', channels };
}

async function attemptChannel(
  deps: DeliverDeps,
  event: OutboxEvent,
  channel: Channel,
  state: ChannelState,
): Promise<AttemptResult> {
  return channel === 'webhook' ? postWebhook(deps, event, state.target ?? '') : sendEmail(deps, event);
}

async function postWebhook(deps: DeliverDeps, event: OutboxEvent, url: string): Promise<AttemptResult> {
  const problem = webhookUrlProblem(url, deps.config.allowLoopbackWebhooks);
  if (problem) return { ok: false, statusCode: null, error: problem, target: url, permanent: true };
  const secret = await deps.secrets.getWebhookSecret(event.tenantId);
  if (!secret) {
    return {
      ok: false,
      statusCode: null,
      error: 'the tenant has no webhook signing secret',
      target: url,
      permanent: true,
    };
  }
  const headers = webhookSignatureHeaders(
    secret,
    event.eventId,
    Math.floor(deps.clock.now() / 1000),
    event.body,
  );
  try {
    const res = await fetch(url, {
      method: 'POST',
      body: event.body,
      headers: { 'content-type': 'application/json', 'user-agent': 'workspace-sync-webhooks/1', ...headers },
      // A redirect is not followed: the signed request goes only where the tenant said.
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.config.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 300;
    return {
      ok,
      statusCode: res.status,
      error: ok ? null : `the receiver answered HTTP ${res.status}`,
      target: url,
    };
  } catch (err) {
    const timedOut = (err as { name?: string }).name === 'TimeoutError';
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return {
      ok: false,
      statusCode: null,
      error: timedOut
        ? `no answer within ${deps.config.timeoutMs} ms`
        : `could not reach the receiver${cause ? ` (${cause})` : ''}`,
      target: url,
    };
  }
}

async function sendEmail(deps: DeliverDeps, event: OutboxEvent): Promise<AttemptResult> {
  if (!deps.sendMail) {
    return {
      ok: false,
      statusCode: null,
      error: 'email is not configured (SMTP_HOST)',
      target: 'email',
      permanent: true,
    };
  }
  const settings = await readNotificationSettings(deps.db, event.tenantId);
  const recipients =
    settings.email.recipients ??
    (await listMembers(deps.db, event.tenantId)).filter((m) => m.role === 'owner').map((m) => m.email);
  if (recipients.length === 0) {
    return { ok: false, statusCode: null, error: 'no recipients', target: 'email', permanent: true };
  }
  const target = recipients.join(', ');
  const tenant = await readTenant(deps.db, event.tenantId);
  const mail = emailFor(
    JSON.parse(event.body) as EventBody,
    tenant?.name || event.tenantId,
    deps.consoleOrigin,
  );
  await deps.sendMail({ to: recipients, ...mail });
  return { ok: true, statusCode: null, error: null, target };
}
