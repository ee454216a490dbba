import { FieldValue, type DocumentData, type Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { paths, TENANT_ID_PATTERN } from '../../../shared/firestore-paths.js';

/**
 * `tenants/{tenantId}`: name, status, the Google Workspace connection metadata (`connection`, never tokens) and
 * the Microsoft Entra connection metadata (`entra`, never the client secret). Every write to it is here.
 */

/** What a tenant id looks like; it is a path segment, so the API checks it before building paths from it. */
export { TENANT_ID_PATTERN };

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

/** The tenant parsed, plus the document as stored (the API echoes selected connection fields from it). */
export async function readTenantWithData(
  db: Firestore,
  tenantId: string,
): Promise<{ tenant: TenantDoc; raw: DocumentData } | null> {
  const snap = await db.doc(paths.tenant(tenantId)).get();
  const tenant = tenantDocSchema.safeParse(snap.data());
  if (!snap.exists || !tenant.success) return null;
  return { tenant: tenant.data, raw: snap.data() ?? {} };
}

/**
 * Name and status of each tenant, in the order asked, null for a missing one. Shown as stored (not validated):
 * this is a list of the caller's own tenants, not an access decision.
 */
export async function readTenantSummaries(
  db: Firestore,
  tenantIds: readonly string[],
): Promise<Array<{ name: string; status: string } | null>> {
  if (tenantIds.length === 0) return [];
  const snaps = await db.getAll(...tenantIds.map((t) => db.doc(paths.tenant(t))));
  return snaps.map((snap) =>
    snap.exists
      ? { name: String(snap.get('name') ?? ''), status: String(snap.get('status') ?? 'pending') }
      : null,
  );
}

const TENANT_PAGE = 500;

/** Every tenant, page by page (push channel upkeep walks them all; the fan-out reads mappings instead). */
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

const TENANT_BATCH = 300;

/** The tenants that exist and validate, by id; read in batches (getAll), not one request per tenant. */
export async function readTenants(
  db: Firestore,
  tenantIds: readonly string[],
): Promise<Map<string, TenantDoc>> {
  const out = new Map<string, TenantDoc>();
  for (let i = 0; i < tenantIds.length; i += TENANT_BATCH) {
    const ids = tenantIds.slice(i, i + TENANT_BATCH);
    const snaps = await db.getAll(...ids.map((t) => db.doc(paths.tenant(t))));
    snaps.forEach((snap, j) => {
      const parsed = snap.exists ? tenantDocSchema.safeParse(snap.data()) : null;
      if (parsed?.success) out.set(ids[j]!, parsed.data);
    });
  }
  return out;
}

export type CreateTenantOutcome = 'created' | 'exists' | 'conflict';

/**
 * A new tenant, pending until an admin connects Google Workspace, and its first owner, in one transaction.
 * `exists`: the same tenant with that owner is already there (a repeated request); `conflict`: a different one.
 */
export async function createTenantWithOwner(
  db: Firestore,
  input: { tenantId: string; name: string; ownerId: string; now: string; by: string },
): Promise<CreateTenantOutcome> {
  const tenantRef = db.doc(paths.tenant(input.tenantId));
  const ownerRef = db.doc(paths.member(input.tenantId, input.ownerId));
  return db.runTransaction(async (tx): Promise<CreateTenantOutcome> => {
    const [tenant, owner] = await tx.getAll(tenantRef, ownerRef);
    if (tenant?.exists) {
      const same = tenant.get('name') === input.name && owner?.exists && owner.get('role') === 'owner';
      return same ? 'exists' : 'conflict';
    }
    tx.create(tenantRef, {
      name: input.name,
      status: 'pending',
      statusReason: null,
      createdAt: input.now,
      createdBy: input.by,
    });
    // The owner's member document has the shape store/members.ts reads.
    tx.set(ownerRef, { email: input.ownerId, role: 'owner', addedAt: input.now, addedBy: input.by });
    return 'created';
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Google Workspace connection: `connection` on the tenant document, with `status` following it.

/** The Google customer id the tenant was connected to before, if any (a reconnect must be the same customer). */
export async function readConnectedCustomerId(db: Firestore, tenantId: string): Promise<string | null> {
  const previous = (await db.doc(paths.tenant(tenantId)).get()).get('connection.customerId') as unknown;
  return typeof previous === 'string' ? previous : null;
}

export interface NewConnection {
  customerId: string;
  domain: string;
  /** The Google account that authorized, when its identity token said so. */
  adminEmail: string | null;
  scopes: string[];
  connectedBy: string;
}

/** Activates the tenant with a fresh connection. */
export async function setTenantConnection(
  db: Firestore,
  tenantId: string,
  connection: NewConnection,
  at: Date,
): Promise<void> {
  const now = at.toISOString();
  // update() replaces the whole `connection` map: no revokedAt or lastError of an earlier connection survives.
  await db.doc(paths.tenant(tenantId)).update({
    status: 'active',
    statusReason: null,
    statusChangedAt: now,
    connection: {
      state: 'connected',
      customerId: connection.customerId,
      domain: connection.domain,
      adminEmail: connection.adminEmail,
      scopes: connection.scopes,
      connectedAt: now,
      connectedBy: connection.connectedBy,
    },
  });
}

export type ScopeChangeOutcome = 'recorded' | 'not_connected';

/**
 * The connection now holds `scopes`, device management on or off accordingly. Only a connection that is still
 * there (connected, or waiting for reauthorization) changes: one revoked while the admin was on Google's consent
 * screen stays revoked, and the caller takes the new tokens back. The tenant is active again, since the new
 * token was just shown to work.
 */
export async function setDeviceManagement(
  db: Firestore,
  tenantId: string,
  change: { enabled: boolean; scopes: string[]; by: string },
  at: Date,
): Promise<ScopeChangeOutcome> {
  const ref = db.doc(paths.tenant(tenantId));
  const now = at.toISOString();
  return db.runTransaction(async (tx): Promise<ScopeChangeOutcome> => {
    const state = (await tx.get(ref)).get('connection.state') as unknown;
    if (state !== 'connected' && state !== 'needs_reauth') return 'not_connected';
    tx.update(ref, {
      status: 'active',
      statusReason: null,
      statusChangedAt: now,
      'connection.state': 'connected',
      'connection.scopes': change.scopes,
      'connection.deviceManagement': change.enabled
        ? { enabled: true, enabledAt: now, enabledBy: change.by }
        : { enabled: false, disabledAt: now, disabledBy: change.by },
    });
    return 'recorded';
  });
}

/**
 * Turning device management off revoked the wider grant at Google, but the read-only authorization that was to
 * replace it did not complete: the tenant holds no authorization at all and must be connected again.
 */
export async function markNarrowingFailed(
  db: Firestore,
  tenantId: string,
  by: string,
  reason: string,
  at: Date,
): Promise<void> {
  const now = at.toISOString();
  await db.doc(paths.tenant(tenantId)).update({
    status: 'needs_reauth',
    statusReason: reason,
    statusChangedAt: now,
    'connection.state': 'needs_reauth',
    'connection.lastError': reason,
    'connection.lastErrorAt': now,
    'connection.scopes': [],
    'connection.deviceManagement': { enabled: false, disabledAt: now, disabledBy: by },
  });
}

/** An admin revoked the connection from our side: the tenant is paused, which stops its syncs. */
export async function markConnectionRevoked(
  db: Firestore,
  tenantId: string,
  by: string,
  at: Date,
): Promise<void> {
  const revokedAt = at.toISOString();
  await db.doc(paths.tenant(tenantId)).set(
    {
      status: 'paused',
      statusReason: `Google Workspace access was revoked by ${by}`,
      statusChangedAt: revokedAt,
      connection: { state: 'revoked', revokedAt, revokedBy: by },
    },
    { merge: true },
  );
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

// ---------------------------------------------------------------------------------------------------------------
// Microsoft Entra connection: `entra` on the tenant document.

/** `disconnected`: an admin disconnected it; the client secret is destroyed. */
export const ENTRA_CONNECTION_STATES = [
  'connected',
  'needs_consent',
  'needs_credentials',
  'disconnected',
] as const;
export type EntraConnectionState = (typeof ENTRA_CONNECTION_STATES)[number];

/** `tenants/{t}.entra`. Only `connected` tenants are synced. */
export const tenantEntraSchema = z
  .object({
    tenantId: z.string().min(1),
    clientId: z.string().min(1),
    graphBaseUrl: z.string().min(1),
    authorityBaseUrl: z.string().min(1),
    connectedAt: z.string(),
    state: z.enum(ENTRA_CONNECTION_STATES).default('connected'),
    stateReason: z.string().nullish(),
    stateChangedAt: z.string().nullish(),
  })
  .loose();
export type TenantEntra = z.infer<typeof tenantEntraSchema>;

/** The tenant's stored Entra metadata, or null when none (or unreadable). */
export function parseTenantEntra(value: unknown): TenantEntra | null {
  const parsed = tenantEntraSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export async function readTenantEntra(db: Firestore, tenantId: string): Promise<TenantEntra | null> {
  return parseTenantEntra((await db.doc(paths.tenant(tenantId)).get()).get('entra'));
}

/** Records a (re)connected Entra directory. */
export async function setTenantEntra(db: Firestore, tenantId: string, entra: TenantEntra): Promise<void> {
  // mergeFields replaces the whole `entra` map: nothing of an earlier connection lingers.
  await db.doc(paths.tenant(tenantId)).set({ entra }, { mergeFields: ['entra'] });
}

/** Who completed the consent, known only after the callback's checks (not to completeAdminConsent). */
export async function setEntraConnectedBy(db: Firestore, tenantId: string, admin: string): Promise<void> {
  await db.doc(paths.tenant(tenantId)).update({ 'entra.connectedBy': admin });
}

/** Stops (or resumes) a tenant's Entra syncs until an admin acts; the reason is what the console shows. */
export async function setEntraState(
  db: Firestore,
  tenantId: string,
  state: EntraConnectionState,
  reason: string | null,
  at: Date,
): Promise<void> {
  const ref = db.doc(paths.tenant(tenantId));
  await db.runTransaction(async (tx) => {
    // A sync that started before an admin disconnected must not turn the disconnection into another state.
    if (parseTenantEntra((await tx.get(ref)).get('entra'))?.state === 'disconnected') return;
    tx.update(ref, {
      'entra.state': state,
      'entra.stateReason': reason,
      'entra.stateChangedAt': at.toISOString(),
    });
  });
}

export type EntraDisconnectOutcome =
  { kind: 'not_connected' } | { kind: 'disconnected'; disconnectedAt: string };

/** Marks the Entra connection disconnected; repeating it keeps the first disconnection's time. */
export async function markEntraDisconnected(
  db: Firestore,
  tenantId: string,
  actor: string,
  at: Date,
): Promise<EntraDisconnectOutcome> {
  const ref = db.doc(paths.tenant(tenantId));
  const now = at.toISOString();
  return db.runTransaction(async (tx): Promise<EntraDisconnectOutcome> => {
    const entra = parseTenantEntra((await tx.get(ref)).get('entra'));
    if (!entra) return { kind: 'not_connected' };
    if (entra.state === 'disconnected') {
      return { kind: 'disconnected', disconnectedAt: String(entra.disconnectedAt ?? now) };
    }
    tx.update(ref, {
      'entra.state': 'disconnected',
      'entra.stateReason': `disconnected by ${actor}`,
      'entra.stateChangedAt': now,
      'entra.disconnectedAt': now,
      'entra.disconnectedBy': actor,
    });
    return { kind: 'disconnected', disconnectedAt: now };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// How the tenant authorizes Google (`googleAuth`), what the authorizing admin may read (`googleAccess`) and the
// credential's health (`credentialHealth`). Never a secret: client secrets and keys live in Secret Manager.

/**
 * `service_client`: the service's own OAuth client (the default, also when `googleAuth` is absent);
 * `tenant_client`: an OAuth client the tenant created in its own Google Cloud project;
 * `service_account`: a service account with domain-wide delegation, impersonating a named admin.
 */
export const GOOGLE_AUTH_MODES = ['service_client', 'tenant_client', 'service_account'] as const;
export type GoogleAuthMode = (typeof GOOGLE_AUTH_MODES)[number];

const tenantClientSchema = z.object({
  clientId: z.string().min(1),
  redirectUri: z.string().min(1),
  savedAt: z.string(),
  savedBy: z.string(),
});
export type TenantOAuthClient = z.infer<typeof tenantClientSchema>;

const serviceAccountSchema = z.object({
  clientEmail: z.string().min(1),
  /** The numeric client id the Admin console's domain-wide delegation entry names. */
  clientId: z.string().min(1),
  keyId: z.string().min(1),
  /** The admin the service account impersonates (`sub`). */
  subject: z.string().min(1),
  /** Who supplied the key: an admin in the console, or the host product through its signed API. */
  source: z.enum(['uploaded', 'host']),
  savedAt: z.string(),
  savedBy: z.string(),
});
export type TenantServiceAccount = z.infer<typeof serviceAccountSchema>;

export const googleAuthSchema = z
  .object({
    mode: z.enum(GOOGLE_AUTH_MODES).default('service_client'),
    tenantClient: tenantClientSchema.nullish(),
    serviceAccount: serviceAccountSchema.nullish(),
  })
  .loose();
export type GoogleAuthSettings = z.infer<typeof googleAuthSchema>;

/** The stored settings, or the default (the service's client) when none or unreadable. */
export function parseGoogleAuth(value: unknown): GoogleAuthSettings {
  const parsed = googleAuthSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : { mode: 'service_client' };
}

export async function readGoogleAuth(db: Firestore, tenantId: string): Promise<GoogleAuthSettings> {
  return parseGoogleAuth((await db.doc(paths.tenant(tenantId)).get()).get('googleAuth'));
}

/** Records the tenant's own OAuth client (its secret went to Secret Manager); the mode is unchanged. */
export async function saveTenantOAuthClient(
  db: Firestore,
  tenantId: string,
  client: TenantOAuthClient,
): Promise<void> {
  await db.doc(paths.tenant(tenantId)).set({ googleAuth: { tenantClient: client } }, { merge: true });
}

/** The connection now authorizes with `mode` (set when a connection of that mode completes). */
export async function setGoogleAuthMode(
  db: Firestore,
  tenantId: string,
  mode: GoogleAuthMode,
  serviceAccount?: TenantServiceAccount,
): Promise<void> {
  await db.doc(paths.tenant(tenantId)).set(
    {
      googleAuth: {
        mode,
        // A service account is recorded only while it is the mode: switching away forgets it (its key is destroyed).
        serviceAccount: mode === 'service_account' ? (serviceAccount ?? null) : null,
      },
    },
    { merge: true },
  );
}

/** What the authorizing admin may read, per entity: the last answer Google gave for that entity. */
export const entityAccessSchema = z.object({
  permitted: z.boolean(),
  /** The Admin console privilege the admin's role lacks, when not permitted. */
  missingPrivilege: z.string().nullish(),
  reason: z.string().nullish(),
  checkedAt: z.string(),
});
export type EntityAccess = z.infer<typeof entityAccessSchema>;

export function parseGoogleAccess(value: unknown): Record<string, EntityAccess> {
  const parsed = z.record(z.string(), entityAccessSchema).safeParse(value ?? {});
  return parsed.success ? parsed.data : {};
}

/** Sets (or, with null, forgets) what Google last said about the admin reading one entity. */
export async function setEntityAccess(
  db: Firestore,
  tenantId: string,
  entity: string,
  access: EntityAccess | null,
): Promise<void> {
  await db
    .doc(paths.tenant(tenantId))
    .update({ [`googleAccess.${entity}`]: access === null ? FieldValue.delete() : access });
}

/** Replaces the whole access listing (a connection test probes every entity). */
export async function setGoogleAccess(
  db: Firestore,
  tenantId: string,
  access: Record<string, EntityAccess>,
): Promise<void> {
  await db.doc(paths.tenant(tenantId)).set({ googleAccess: access }, { mergeFields: ['googleAccess'] });
}

export const CREDENTIAL_HEALTH_STATES = ['healthy', 'failing', 'not_connected'] as const;
export type CredentialHealthState = (typeof CREDENTIAL_HEALTH_STATES)[number];

/** `suspended` and `not_admin` are what Google said of the authorizing admin; `unknown` when it could not tell. */
export const ADMIN_STATUSES = ['active', 'suspended', 'not_admin', 'deleted', 'unknown'] as const;
export type AdminStatus = (typeof ADMIN_STATUSES)[number];

export const credentialHealthSchema = z.object({
  state: z.enum(CREDENTIAL_HEALTH_STATES),
  checkedAt: z.string(),
  mode: z.enum(GOOGLE_AUTH_MODES),
  reason: z.string().nullable(),
  admin: z.object({ email: z.string().nullable(), status: z.enum(ADMIN_STATUSES) }),
  lastHealthyAt: z.string().nullable(),
  failingSince: z.string().nullable(),
});
export type CredentialHealth = z.infer<typeof credentialHealthSchema>;

export function parseCredentialHealth(value: unknown): CredentialHealth | null {
  const parsed = credentialHealthSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/**
 * Stores a health check's result and returns the one it replaced (in one transaction, so two instances checking
 * at once agree on which of them saw the transition). With `needsReauth`, the tenant's syncs stop as an
 * invalid_grant during a sync would stop them.
 */
export async function recordCredentialHealth(
  db: Firestore,
  tenantId: string,
  health: Omit<CredentialHealth, 'lastHealthyAt' | 'failingSince'>,
  needsReauth: string | null,
): Promise<{ previous: CredentialHealth | null; current: CredentialHealth }> {
  const ref = db.doc(paths.tenant(tenantId));
  return db.runTransaction(async (tx) => {
    const snap = await tx.get(ref);
    const previous = parseCredentialHealth(snap.get('credentialHealth'));
    const current: CredentialHealth = {
      ...health,
      lastHealthyAt: health.state === 'healthy' ? health.checkedAt : (previous?.lastHealthyAt ?? null),
      failingSince:
        health.state === 'failing'
          ? previous?.state === 'failing'
            ? (previous.failingSince ?? health.checkedAt)
            : health.checkedAt
          : null,
    };
    const update: Record<string, unknown> = { credentialHealth: current };
    if (needsReauth !== null && snap.get('status') === 'active') {
      Object.assign(update, {
        status: 'needs_reauth',
        statusReason: needsReauth,
        statusChangedAt: health.checkedAt,
        'connection.state': 'needs_reauth',
        'connection.lastError': needsReauth,
        'connection.lastErrorAt': health.checkedAt,
      });
    }
    tx.update(ref, update);
    return { previous, current };
  });
}
