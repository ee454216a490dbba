import type { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths } from '../../../shared/firestore-paths.js';

/**
 * A tenant's connection lifecycle. Only `active` tenants are synced: `needs_reauth` is set when Google answers
 * invalid_grant (revoked on Google's side, expired), `paused` when an admin revoked from our side.
 */
export const TENANT_STATUSES = ['pending', 'active', 'needs_reauth', 'paused'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export const tenantDocSchema = z
  .object({
    name: z.string().default(''),
    status: z.enum(TENANT_STATUSES).default('pending'),
    statusReason: z.string().nullable().default(null),
  })
  .loose();
export type TenantDoc = z.infer<typeof tenantDocSchema>;

export async function readTenant(db: Firestore, tenantId: string): Promise<TenantDoc | null> {
  const snap = await db.doc(paths.tenant(tenantId)).get();
  if (!snap.exists) return null;
  const parsed = tenantDocSchema.safeParse(snap.data());
  return parsed.success ? parsed.data : null;
}

export async function markNeedsReauthorization(
  db: Firestore,
  tenantId: string,
  reason: string,
  at: Date,
): Promise<void> {
  await db.doc(paths.tenant(tenantId)).set(
    {
      status: 'needs_reauth',
      statusReason: reason,
      statusChangedAt: at.toISOString(),
      connection: { state: 'needs_reauth', lastError: reason, lastErrorAt: at.toISOString() },
    },
    { merge: true },
  );
}

const TENANT_PAGE = 200;

/** Every tenant, page by page (ordered by id, so a long listing neither skips nor repeats one). */
export async function* listTenants(db: Firestore): AsyncGenerator<{ id: string; tenant: TenantDoc }> {
  let query = db.collection('tenants').orderBy('__name__').limit(TENANT_PAGE);
  for (;;) {
    const snap = await query.get();
    for (const doc of snap.docs) {
      const parsed = tenantDocSchema.safeParse(doc.data());
      if (parsed.success) yield { id: doc.id, tenant: parsed.data };
    }
    if (snap.size < TENANT_PAGE) return;
    query = query.startAfter(snap.docs[snap.docs.length - 1]!);
  }
}
