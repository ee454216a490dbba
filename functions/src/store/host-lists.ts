import type { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * `tenants/{t}/hostLists/{list}`: lists the host product sets for a tenant so the console can offer choices
 * instead of free text: the roles its login users can have (`loginRoles`) and its objects that records can go
 * to (`objects`). Each list is one document, replaced whole: `{ items: [{ id, label }], updatedAt, updatedBy }`.
 */
export const HOST_LISTS = ['loginRoles', 'objects'] as const;
export type HostListName = (typeof HOST_LISTS)[number];

export const hostListItemSchema = z.strictObject({
  /** What the mapping stores: a role name, or an object id. */
  id: z.string().trim().min(1).max(60),
  /** What an admin reads; the id when absent. */
  label: z.string().trim().min(1).max(120).optional(),
});
export type HostListItem = z.infer<typeof hostListItemSchema>;

const storedListSchema = z.object({
  items: z.array(hostListItemSchema),
  updatedAt: z.string().nullable().default(null),
  updatedBy: z.string().nullable().default(null),
});

export interface HostList {
  items: HostListItem[];
  updatedAt: string | null;
  updatedBy: string | null;
}

/** The list, empty when never set (or no longer readable: a hand-edited document must not break the console). */
export async function readHostList(db: Firestore, tenantId: string, list: HostListName): Promise<HostList> {
  const snap = await db.doc(paths.hostList(tenantId, list)).get();
  const parsed = storedListSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : { items: [], updatedAt: null, updatedBy: null };
}

export async function writeHostList(
  db: Firestore,
  tenantId: string,
  list: HostListName,
  items: readonly HostListItem[],
  meta: { now: string; by: string },
): Promise<HostList> {
  const doc: HostList = { items: [...items], updatedAt: meta.now, updatedBy: meta.by };
  await db.doc(paths.hostList(tenantId, list)).set(doc);
  return doc;
}
