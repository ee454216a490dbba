import { z } from 'zod';
import { ApiError } from '../api/api-error.js';
import { json, type ApiResult } from '../api/http.js';
import { parseBody, parseQuery } from '../api/request-body.js';
import { actorOf, requireTenant, type RouteContext } from '../api/route-context.js';
import type { Route } from '../api/router.js';
import { listMembers, memberIdFor } from '../store/members.js';
import { listDeliveries } from '../store/notification-deliveries.js';
import {
  readNotificationSettings,
  writeNotificationSettings,
  type NotificationSettings,
} from '../store/notification-settings.js';
import { EVENT_LABELS, EVENT_TYPES, eventTypeSchema } from './events.js';
import { webhookUrlProblem } from './webhook-url.js';
import { newWebhookSecret } from './webhook-signature.js';

/**
 * A tenant's notification targets (`GET/PUT /api/tenants/:t/notifications`, owners and the host product; every
 * member may read them), the webhook signing secret (`POST .../notifications/webhook-secret`, answered once,
 * kept in Secret Manager) and the delivery log (`GET .../notifications/deliveries`).
 */
export const MAX_EMAIL_RECIPIENTS = 20;

const events = z
  .array(eventTypeSchema)
  .max(EVENT_TYPES.length * 2)
  .transform((list) => EVENT_TYPES.filter((t) => list.includes(t)));

function settingsBody(allowLoopback: boolean) {
  return z.strictObject({
    webhook: z.strictObject({
      url: z
        .string()
        .trim()
        .max(2000)
        .nullable()
        .transform((u) => (u === '' ? null : u))
        .superRefine((u, ctx) => {
          const problem = u === null ? null : webhookUrlProblem(u, allowLoopback);
          if (problem) ctx.addIssue({ code: 'custom', message: `the webhook URL ${problem}` });
        }),
      events,
    }),
    email: z.strictObject({
      /** null: the tenant's owners. */
      recipients: z
        .array(z.email().max(254).transform(memberIdFor))
        .max(MAX_EMAIL_RECIPIENTS)
        .nullable()
        .transform((list) => (list === null ? null : [...new Set(list)])),
      events,
    }),
  });
}

/** The settings as the API shows them: never the secret, only whether one exists. */
function view(ctx: RouteContext, s: NotificationSettings) {
  return {
    webhook: {
      url: s.webhook.url,
      events: s.webhook.events,
      secretSet: s.webhook.secretSetAt !== null,
      secretSetAt: s.webhook.secretSetAt,
    },
    email: { recipients: s.email.recipients, events: s.email.events },
    updatedAt: s.updatedAt,
    updatedBy: s.updatedBy,
    emailEnabled: ctx.app.config.notifications.smtp !== null,
    eventTypes: EVENT_TYPES.map((type) => ({ type, label: EVENT_LABELS[type] })),
  };
}

async function get(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  return json(200, view(ctx, await readNotificationSettings(ctx.app.db, tenantId)));
}

async function put(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const body = parseBody(ctx.req, settingsBody(ctx.app.config.notifications.allowLoopbackWebhooks), {
    emptyAllowed: false,
  });
  if (body.email.recipients !== null) {
    // Notification email goes to the tenant's own team only: the settings cannot mail arbitrary addresses.
    const members = new Set((await listMembers(ctx.app.db, tenantId)).map((m) => m.email));
    const strangers = body.email.recipients.filter((r) => !members.has(r));
    if (strangers.length > 0) {
      throw new ApiError('invalid_argument', 'email recipients must be members of the tenant', [
        { path: 'email.recipients', message: `not a member: ${strangers.join(', ')}` },
      ]);
    }
  }
  const before = await readNotificationSettings(ctx.app.db, tenantId);
  const at = new Date(ctx.app.clock.now()).toISOString();
  const by = actorOf(ctx.caller);
  // The first webhook URL gets a signing secret, shown in this answer once (and again only by rotating it).
  const secret = body.webhook.url && before.webhook.secretSetAt === null ? newWebhookSecret() : null;
  if (secret) await ctx.app.secrets.putWebhookSecret(tenantId, secret);
  const next: NotificationSettings = {
    webhook: {
      url: body.webhook.url,
      events: body.webhook.events,
      secretSetAt: secret ? at : before.webhook.secretSetAt,
    },
    email: body.email,
    updatedAt: at,
    updatedBy: by,
  };
  await writeNotificationSettings(ctx.app.db, tenantId, next, { by, at, before, what: 'settings' });
  ctx.log.info('notification settings changed', {
    tenantId,
    by,
    webhook: next.webhook.url !== null,
    webhookEvents: next.webhook.events,
    emailEvents: next.email.events,
  });
  return json(200, { ...view(ctx, next), ...(secret ? { webhookSecret: secret } : {}) });
}

/** A new signing secret (the old one stops working at once); the answer is the only place it is shown. */
async function rotateSecret(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  parseBody(ctx.req, z.strictObject({}), { emptyAllowed: true });
  const before = await readNotificationSettings(ctx.app.db, tenantId);
  const at = new Date(ctx.app.clock.now()).toISOString();
  const by = actorOf(ctx.caller);
  const secret = newWebhookSecret();
  await ctx.app.secrets.putWebhookSecret(tenantId, secret);
  const next = { ...before, webhook: { ...before.webhook, secretSetAt: at }, updatedAt: at, updatedBy: by };
  await writeNotificationSettings(ctx.app.db, tenantId, next, { by, at, before, what: 'webhook_secret' });
  ctx.log.info('webhook signing secret rotated', { tenantId, by });
  return json(200, { webhookSecret: secret, secretSetAt: at });
}

const deliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: z
    .string()
    .regex(/^evt_[0-9a-f]{32}-(webhook|email)-\d{1,2}$/)
    .optional(),
});

async function deliveries(ctx: RouteContext): Promise<ApiResult> {
  const { tenantId } = requireTenant(ctx);
  const q = parseQuery(ctx.req, deliveriesQuery);
  const page = await listDeliveries(ctx.app.db, tenantId, q);
  if (page.kind === 'unknown_cursor') throw new ApiError('invalid_argument', 'unknown cursor: after');
  return json(200, { deliveries: page.deliveries, next: page.next });
}

const base = '/api/tenants/:tenantId/notifications';
export const notificationRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: base,
    access: { kind: 'tenant', need: 'read', allowHost: true },
    handle: get,
    doc: {
      summary: "The tenant's notification targets: the webhook (URL, events) and email (recipients, events)",
      responses: { 200: { description: 'The notification settings (never the webhook secret).' } },
    },
  },
  {
    method: 'PUT',
    pattern: base,
    access: { kind: 'tenant', need: 'owner', allowHost: true },
    handle: put,
    doc: {
      summary: 'Sets the notification targets (validated; the change is audited)',
      body: settingsBody(false),
      responses: { 200: { description: 'The stored settings.' } },
    },
  },
  {
    method: 'POST',
    pattern: `${base}/webhook-secret`,
    access: { kind: 'tenant', need: 'owner', allowHost: true },
    handle: rotateSecret,
    doc: {
      summary:
        'Creates a new webhook signing secret (Standard Webhooks `whsec_…`), shown once; the old one stops signing',
      body: z.strictObject({}),
      bodyOptional: true,
      responses: { 200: { description: '`{secret}`, this once.' } },
    },
  },
  {
    method: 'GET',
    pattern: `${base}/deliveries`,
    access: { kind: 'tenant', need: 'read', allowHost: true },
    handle: deliveries,
    doc: {
      summary: 'The delivery log: each webhook and email attempt, newest first',
      query: deliveriesQuery,
      responses: { 200: { description: '`{deliveries, nextPageToken}`.' } },
    },
  },
];
