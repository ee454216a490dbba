import { FieldPath, FieldValue, Timestamp, type Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * Google push notification channels and the users they reported changed (functions/src/push).
 *
 *   pushChannels/{channelId}               a users.watch channel: tenant, event, token hash, Google's resourceId,
 *                                          expiration; server only. Top level: a notification names only the
 *                                          channel, and the receiver finds the tenant from it.
 *   tenants/{t}/pushDispatch/{mappingId}   when the receiver last asked for a push run of the mapping
 *   tenants/{t}/pushNotices/{autoId}       a notified user change: { userId, event, at } (TTL), read by the
 *                                          incremental pass of the tenant's Google users mappings
 *
 * `at` is the commit time (a server timestamp): a query sees every notice committed before it runs, and one
 * committed after it has a later `at`, so the position of the last notice read is a cursor that loses nothing.
 */

export const USER_WATCH_EVENTS = ['add', 'delete', 'makeAdmin', 'undelete', 'update'] as const;
export type UserWatchEvent = (typeof USER_WATCH_EVENTS)[number];

const channelSchema = z.object({
  channelId: z.string(),
  tenantId: z.string(),
  event: z.enum(USER_WATCH_EVENTS),
  /** sha256 of the channel token (hex): the token itself is only ever in Google's hands and ours in flight. */
  tokenHash: z.string(),
  resourceId: z.string(),
  resourceUri: z.string().default(''),
  /** ms since the epoch, as Google answered it. */
  expiration: z.number(),
  status: z.enum(['active', 'stopped']),
  createdAt: z.string(),
  stoppedAt: z.string().nullable().default(null),
  /** Set on the channel a renewal replaced (the new channel's id). */
  replacedBy: z.string().nullable().default(null),
});
export type PushChannel = z.infer<typeof channelSchema>;

/** Notices older than this are gone (TTL on expireAt); a full pass runs far more often. */
const NOTICE_TTL_MS = 3 * 24 * 3600 * 1000;
/** Stopped channels stay readable for a while (a late notification is refused as stopped, not unknown). */
const STOPPED_CHANNEL_TTL_MS = 7 * 24 * 3600 * 1000;

const CHANNELS = 'pushChannels';
const channelRef = (db: Firestore, id: string) => db.collection(CHANNELS).doc(id);
const noticesOf = (db: Firestore, tenantId: string) => db.collection(`${paths.tenant(tenantId)}/pushNotices`);

export async function saveChannel(db: Firestore, channel: PushChannel): Promise<void> {
  await channelRef(db, channel.channelId).create(channel);
}

/** What Google answered to users.watch, on the channel stored (with an empty resourceId) before asking. */
export async function setChannelWatched(
  db: Firestore,
  channelId: string,
  watched: { resourceId: string; resourceUri: string; expiration: number },
): Promise<void> {
  await channelRef(db, channelId).update(watched);
}

export async function readChannel(db: Firestore, channelId: string): Promise<PushChannel | null> {
  const snap = await channelRef(db, channelId).get();
  if (!snap.exists) return null;
  const parsed = channelSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : null;
}

/** Active channels: of one tenant, or of every tenant (the renewal pass). */
export async function listActiveChannels(db: Firestore, tenantId?: string): Promise<PushChannel[]> {
  let q = db.collection(CHANNELS).where('status', '==', 'active');
  if (tenantId) q = q.where('tenantId', '==', tenantId);
  const snap = await q.get();
  return snap.docs.flatMap((d) => {
    const parsed = channelSchema.safeParse(d.data());
    return parsed.success ? [parsed.data] : [];
  });
}

export async function markChannelStopped(
  db: Firestore,
  channelId: string,
  at: Date,
  replacedBy: string | null = null,
): Promise<void> {
  await channelRef(db, channelId).update({
    status: 'stopped',
    stoppedAt: at.toISOString(),
    replacedBy,
    expireAt: new Date(at.getTime() + STOPPED_CHANNEL_TTL_MS),
  });
}

/** Where an incremental pass goes on: after this notice. */
export interface NoticePosition {
  seconds: number;
  nanos: number;
  id: string;
}

export function encodeNoticeCursor(p: NoticePosition): string {
  return `notice:${p.seconds}:${p.nanos}:${p.id}`;
}

/** null: not a notice cursor (a stale or foreign one; the pass restarts as a full one). */
export function decodeNoticeCursor(cursor: string): NoticePosition | null {
  const m = /^notice:(\d+):(\d+):([A-Za-z0-9]*)$/.exec(cursor);
  return m ? { seconds: Number(m[1]), nanos: Number(m[2]), id: m[3] ?? '' } : null;
}

export interface Notice {
  userId: string;
  event: UserWatchEvent;
  position: NoticePosition;
}

export async function recordNotice(
  db: Firestore,
  tenantId: string,
  notice: { userId: string; event: UserWatchEvent; channelId: string; messageNumber: number },
  now: number,
): Promise<void> {
  await noticesOf(db, tenantId).add({
    ...notice,
    at: FieldValue.serverTimestamp(),
    expireAt: new Date(now + NOTICE_TTL_MS),
  });
}

/** Notices after `after` in commit order, at most `limit`. */
export async function readNoticesAfter(
  db: Firestore,
  tenantId: string,
  after: NoticePosition,
  limit: number,
): Promise<Notice[]> {
  const snap = await noticesOf(db, tenantId)
    .orderBy('at')
    .orderBy(FieldPath.documentId())
    // The start of the notices has no document to break ties with.
    .startAfter(...(after.id ? [new Timestamp(after.seconds, after.nanos), after.id] : [new Timestamp(0, 0)]))
    .limit(limit)
    .get();
  return snap.docs.flatMap((d) => {
    const at: unknown = d.get('at');
    const userId: unknown = d.get('userId');
    const event = z.enum(USER_WATCH_EVENTS).safeParse(d.get('event'));
    if (!(at instanceof Timestamp) || typeof userId !== 'string' || !event.success) return [];
    return [
      { userId, event: event.data, position: { seconds: at.seconds, nanos: at.nanoseconds, id: d.id } },
    ];
  });
}

/** The position of the tenant's latest notice (a full pass's resume point); the start when there is none. */
export async function latestNoticePosition(db: Firestore, tenantId: string): Promise<NoticePosition> {
  const snap = await noticesOf(db, tenantId)
    .orderBy('at', 'desc')
    .orderBy(FieldPath.documentId(), 'desc')
    .limit(1)
    .get();
  const d = snap.docs[0];
  const at: unknown = d?.get('at');
  return d && at instanceof Timestamp
    ? { seconds: at.seconds, nanos: at.nanoseconds, id: d.id }
    : { seconds: 0, nanos: 0, id: '' };
}

const dispatchRef = (db: Firestore, tenantId: string, mappingId: string) =>
  db.doc(`${paths.tenant(tenantId)}/pushDispatch/${mappingId}`);

/**
 * Whether a push run of the mapping is already asked for and will start later than now: the receiver asked
 * (publishedAt) after the latest run started (the sync state's runStartedAt), by more than `marginMs` of clock
 * skew. Such a run reads every notice recorded before it starts, so a later notification needs no request of
 * its own. Otherwise the request is noted as asked for now, and the caller publishes it.
 */
export async function pushRunAlreadyAsked(
  db: Firestore,
  tenantId: string,
  mappingId: string,
  now: number,
  marginMs: number,
): Promise<boolean> {
  const [dispatch, state] = await db.getAll(
    dispatchRef(db, tenantId, mappingId),
    db.doc(paths.syncState(tenantId, mappingId)),
  );
  const publishedAt: unknown = dispatch?.get('publishedAt');
  const runStartedAt: unknown = state?.get('runStartedAt');
  const started = typeof runStartedAt === 'number' ? runStartedAt : 0;
  if (typeof publishedAt === 'number' && publishedAt > started + marginMs) return true;
  await dispatchRef(db, tenantId, mappingId).set({ publishedAt: now });
  return false;
}
