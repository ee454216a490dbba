import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';
import { eventTypeSchema } from '../notifications/events.js';

/**
 * `tenants/{t}/notificationSettings/current`: where a tenant's notifications go (the host product's webhook URL,
 * email recipients) and which events each gets. The webhook's signing secret is in Secret Manager, never here;
 * `webhook.secretSetAt` only says one exists.
 *
 * `tenants/{t}/notificationAudit/{id}`: every change to them, who made it, before and after (written in the same
 * batch as the change, so neither exists without the other).
 */
export const notificationSettingsSchema = z.strictObject({
  webhook: z.strictObject({
    url: z.string().nullable(),
    events: z.array(eventTypeSchema),
    secretSetAt: z.string().nullable(),
  }),
  email: z.strictObject({
    /** null: the tenant's owners, as they are when an event is delivered. */
    recipients: z.array(z.string()).nullable(),
    events: z.array(eventTypeSchema),
  }),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
export type NotificationSettings = z.infer<typeof notificationSettingsSchema>;

/**
 * A tenant that never set anything: its owners are emailed (when SMTP is configured) what needs an admin (a
 * failed or held run, a connection that stopped working), so a broken sync is not found weeks later by someone
 * missing from the host product. The webhook and record changes are opt-in.
 */
export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = {
  webhook: { url: null, events: [], secretSetAt: null },
  email: {
    recipients: null,
    events: ['run.failed', 'run.held', 'tenant.needs_reauthorization', 'tenant.connection_failing'],
  },
  updatedAt: null,
  updatedBy: null,
};

/** What an unreadable settings document means: nobody is told, rather than somebody it was not meant for. */
const NOTHING: NotificationSettings = {
  ...DEFAULT_NOTIFICATION_SETTINGS,
  email: { recipients: null, events: [] },
};

export async function readNotificationSettings(
  db: Firestore,
  tenantId: string,
): Promise<NotificationSettings> {
  const snap = await db.doc(paths.notificationSettings(tenantId)).get();
  if (!snap.exists) return DEFAULT_NOTIFICATION_SETTINGS;
  const parsed = notificationSettingsSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : NOTHING;
}

/** Stores the settings and their audit entry in one batch. */
export async function writeNotificationSettings(
  db: Firestore,
  tenantId: string,
  next: NotificationSettings,
  audit: { by: string; at: string; before: NotificationSettings; what: 'settings' | 'webhook_secret' },
): Promise<void> {
  const doc = notificationSettingsSchema.parse(next);
  const batch = db.batch();
  batch.set(db.doc(paths.notificationSettings(tenantId)), doc);
  batch.create(db.collection(paths.notificationAudit(tenantId)).doc(randomUUID()), {
    what: audit.what,
    by: audit.by,
    at: audit.at,
    before: audit.before,
    after: doc,
  });
  await batch.commit();
}

export interface NotificationAuditEntry {
  what: string;
  by: string;
  at: string;
  before: unknown;
  after: unknown;
}

/** The latest changes, newest first. */
export async function listNotificationAudit(
  db: Firestore,
  tenantId: string,
  limit: number,
): Promise<NotificationAuditEntry[]> {
  const snap = await db
    .collection(paths.notificationAudit(tenantId))
    .orderBy('at', 'desc')
    .limit(limit)
    .get();
  return snap.docs.map((d) => d.data() as NotificationAuditEntry);
}
