import type { Mapping } from '../../../shared/mapping.js';
import { SourceError, type SourceChange, type SourceReader } from '../engine/source.js';
import type { RequestBudget } from '../store/request-budget.js';
import {
  decodeNoticeCursor,
  encodeNoticeCursor,
  latestNoticePosition,
  readNoticesAfter,
  type UserWatchEvent,
} from '../store/push-channels.js';
import type { Db } from '../store/firestore.js';
import { toSourceError } from '../sources/google/google-source.js';
import type { DirectoryWatchClient } from './directory-watch.js';

/** Notices one incremental page takes (each costs a users.get). */
export const NOTICE_PAGE_SIZE = 100;

export const PUSH_DELETED_REASON = 'deleted in Google Workspace (push notification)';

export interface NotifiedChangesDeps {
  db: Db;
  clientFor(tenantId: string): Promise<DirectoryWatchClient>;
}

/**
 * Gives a Google users reader the incremental pass of push: changesPage reads the users notified since the
 * cursor (a position in the tenant's notices, store/push-channels.ts) and fetches each with users.get, so the
 * record is what Google says now, whatever the notification carried. A user Google no longer has (404, or a
 * `delete` as the latest event) is a `remove`; one that left the mapped org units is an upsert the engine
 * treats like the full pass would (engine/page-plan.ts). A full pass ends with the position of the latest
 * notice when this invocation opened, so the next push pass starts there.
 */
export function notifiedChangesReader(deps: NotifiedChangesDeps) {
  return async (
    tenantId: string,
    mapping: Mapping,
    reader: SourceReader,
    budget: RequestBudget,
  ): Promise<SourceReader> => {
    const openedAt = encodeNoticeCursor(await latestNoticePosition(deps.db, tenantId));
    const sourcePaths = mapping.fieldMap.map((f) => f.source);
    let client: DirectoryWatchClient | null = null;
    return {
      // A full pass is the Directory reader's own (partitioned or not); it ends where the next push pass starts.
      ...(reader.partitions ? { partitions: (hint) => reader.partitions!(hint) } : {}),
      ...(reader.partitionPage
        ? { partitionPage: (p: string, c: string | null) => reader.partitionPage!(p, c) }
        : {}),
      ...(reader.recheck ? { recheck: (values: string[]) => reader.recheck!(values) } : {}),
      partitionedResumeCursor: () => openedAt,
      async fullPage(cursor) {
        const page = await reader.fullPage(cursor);
        return page.next === null ? { ...page, resumeCursor: openedAt } : page;
      },
      async changesPage(cursor) {
        const after = decodeNoticeCursor(cursor);
        if (!after)
          throw new SourceError('restart_listing', 'the stored cursor is not a push notice position');
        const notices = await readNoticesAfter(deps.db, tenantId, after, NOTICE_PAGE_SIZE);
        // The latest event per user, in the order users were last notified.
        const latest = new Map<string, UserWatchEvent>();
        for (const n of notices) {
          latest.delete(n.userId);
          latest.set(n.userId, n.event);
        }
        const changes: SourceChange[] = [];
        for (const [userId, event] of latest) {
          if (event === 'delete') {
            changes.push({ kind: 'remove', sourceId: userId, reason: PUSH_DELETED_REASON });
            continue;
          }
          await budget.acquire();
          let user: Record<string, unknown> | null;
          try {
            client ??= await deps.clientFor(tenantId);
            user = await client.getUser(userId, sourcePaths);
          } catch (err) {
            throw toSourceError(err, false);
          }
          changes.push(
            user
              ? { kind: 'upsert', object: user }
              : { kind: 'remove', sourceId: userId, reason: PUSH_DELETED_REASON },
          );
        }
        const last = notices.at(-1);
        const position = last ? encodeNoticeCursor(last.position) : cursor;
        return notices.length === NOTICE_PAGE_SIZE
          ? { changes, next: position }
          : { changes, next: null, resumeCursor: position };
      },
    };
  };
}

export type NotifiedChangesReader = ReturnType<typeof notifiedChangesReader>;
