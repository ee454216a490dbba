/**
 * Where everything lives in Firestore. Every tenant-owned document sits under `tenants/{tenantId}`, which is
 * what the security rules and the API's tenant checks rely on.
 *
 *   tenants/{tenantId}                                   tenant: name, status, connection metadata (never tokens),
 *                                                        entra: Entra connection metadata (never the client secret),
 *                                                        peoplePrecedence: per-field source order for people
 *   tenants/{tenantId}/members/{uid}                     admins of the tenant: { email, role }
 *   tenants/{tenantId}/mappings/{mappingId}              Mapping
 *   tenants/{tenantId}/syncState/{mappingId}             lease + checkpoint of the current run
 *   tenants/{tenantId}/syncState/{mappingId}/index/{n}   content-hash index shards (change detection)
 *   tenants/{tenantId}/syncState/{mappingId}/requests/{k} sync requests already handled (TTL), so a late redelivery
 *                                                        starts nothing
 *   tenants/{tenantId}/requestBudget/{bucket}            Directory requests granted per 1/12 minute across instances (TTL)
 *   tenants/{tenantId}/refreshSlots/{window}:{n}         refresh webhook rate-limit slots, create-only (TTL)
 *   tenants/{tenantId}/refreshes/{mapping}:{window}:{seq} runs the refresh webhook planned, create-only (TTL)
 *   tenants/{tenantId}/runs/{runId}                      SyncRun history
 *   tenants/{tenantId}/runs/{runId}/pages/{n}            ids seen per page (for the removal sweep)
 *   tenants/{tenantId}/runs/{runId}/heldRemovals/{id}    the records a held run would remove (for review)
 *   tenants/{tenantId}/syncState/{mappingId}/removalReview/{k} an admin's confirmation of a held run and the
 *                                                        records excluded from removal (store/removal-review.ts)
 *   tenants/{tenantId}/deviceActions/{actionId}          device action audit trail: who, when, which devices, what
 *                                                        was asked, Google's answer per device
 *   tenants/{tenantId}/deviceActionKeys/{keyHash}        Idempotency-Key records of device actions (TTL, server only)
 *   tenants/{tenantId}/objects/{objectId}/records/{id}   synced records (login users: objectId "login-users";
 *                                                        merged people: objectId "people", id = normalized email)
 *   tenants/{tenantId}/hostLists/{list}                  lists the host product sets for the console's pickers:
 *                                                        "loginRoles" (roles of login users), "objects" (its objects)
 *   tenants/{tenantId}/notificationSettings/current    webhook and email targets, which events each gets
 *   tenants/{tenantId}/notificationAudit/{id}            who changed the notification settings, from what to what
 *   tenants/{tenantId}/notificationOutbox/{eventId}      events to deliver (webhook, email) and each channel's state
 *   tenants/{tenantId}/notificationDeliveries/{id}       one document per delivery attempt (TTL `expireAt`)
 *   oauthStates/{stateId}                                pending OAuth authorizations (server only)
 *   deadLetters/{messageId}                              messages Pub/Sub gave up delivering (server only)
 *   hostSignatures/{sha256(signature)}                   host signatures already accepted: each is accepted once
 *                                                        (TTL `expireAt`, server only)
 *   idempotencyKeys/{sha256(tenant, caller, key)}        a host request's Idempotency-Key and its first answer
 *                                                        (TTL `expireAt`, server only)
 *   tenants/{tenantId}/settingsAudit/{id}                 every change of the tenant's settings: who, when, what
 *                                                        (tenant fields peoplePrecedence, removalThresholdPercent,
 *                                                        schedule {cron, timeZone, lastScheduledAt})
 *   sessions/{sha256(session id)}                        console sign-in sessions: email, expiry (TTL `expireAt`,
 *                                                        server only)
 */
export const paths = {
  tenant: (t: string) => `tenants/${t}`,
  members: (t: string) => `tenants/${t}/members`,
  member: (t: string, uid: string) => `tenants/${t}/members/${uid}`,
  mappings: (t: string) => `tenants/${t}/mappings`,
  mapping: (t: string, m: string) => `tenants/${t}/mappings/${m}`,
  syncState: (t: string, m: string) => `tenants/${t}/syncState/${m}`,
  indexShards: (t: string, m: string) => `tenants/${t}/syncState/${m}/index`,
  syncRequests: (t: string, m: string) => `tenants/${t}/syncState/${m}/requests`,
  requestBudget: (t: string) => `tenants/${t}/requestBudget`,
  deadLetters: () => 'deadLetters',
  refreshSlots: (t: string) => `tenants/${t}/refreshSlots`,
  refreshes: (t: string) => `tenants/${t}/refreshes`,
  runs: (t: string) => `tenants/${t}/runs`,
  run: (t: string, r: string) => `tenants/${t}/runs/${r}`,
  runPages: (t: string, r: string) => `tenants/${t}/runs/${r}/pages`,
  deviceActions: (t: string) => `tenants/${t}/deviceActions`,
  deviceAction: (t: string, id: string) => `tenants/${t}/deviceActions/${id}`,
  deviceActionKey: (t: string, keyHash: string) => `tenants/${t}/deviceActionKeys/${keyHash}`,
  records: (t: string, objectId: string) => `tenants/${t}/objects/${objectId}/records`,
  record: (t: string, objectId: string, id: string) => `tenants/${t}/objects/${objectId}/records/${id}`,
  oauthStates: () => 'oauthStates',
  hostSignature: (hash: string) => `hostSignatures/${hash}`,
  idempotencyKey: (hash: string) => `idempotencyKeys/${hash}`,
  heldRemovals: (t: string, r: string) => `tenants/${t}/runs/${r}/heldRemovals`,
  removalReview: (t: string, m: string) => `tenants/${t}/syncState/${m}/removalReview`,
  hostList: (t: string, list: string) => `tenants/${t}/hostLists/${list}`,
  notificationSettings: (t: string) => `tenants/${t}/notificationSettings/current`,
  notificationAudit: (t: string) => `tenants/${t}/notificationAudit`,
  notificationOutbox: (t: string) => `tenants/${t}/notificationOutbox`,
  notificationEvent: (t: string, eventId: string) => `tenants/${t}/notificationOutbox/${eventId}`,
  notificationDeliveries: (t: string) => `tenants/${t}/notificationDeliveries`,
  settingsAudit: (t: string) => `tenants/${t}/settingsAudit`,
  session: (hash: string) => `sessions/${hash}`,
  sessions: () => 'sessions',
} as const;

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$|^[a-z0-9]$/;
