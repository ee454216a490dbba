import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * What the service tells a tenant's host product (webhook) and owners (email) about. Run events say how a sync
 * ended when someone has to look; record events say what a page or a removal sweep changed, batched: one event
 * names up to RECORDS_PER_EVENT records with the fields that changed, so notifications never cost a Firestore
 * write per record.
 */
export const EVENT_TYPES = [
  'run.failed',
  'run.held',
  'run.succeeded_with_errors',
  'tenant.needs_reauthorization',
  'tenant.connection_failing',
  'records.changed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const eventTypeSchema = z.enum(EVENT_TYPES);

export const EVENT_LABELS: Record<EventType, string> = {
  'run.failed': 'A sync run failed',
  'run.held': 'A sync run is held for removal review',
  'run.succeeded_with_errors': 'A sync run completed with failed records',
  'tenant.needs_reauthorization': 'The tenant needs re-authorization',
  'tenant.connection_failing': 'The Google Workspace connection stopped working',
  'records.changed': 'Records were created, updated or removed',
};

/** Records named in one records.changed event; a larger page or removal sweep becomes a few events. */
export const RECORDS_PER_EVENT = 500;

export interface RunEventData {
  runId: string;
  mappingId: string;
  mappingName: string;
  source: string;
  entity: string;
  status: 'failed' | 'held' | 'succeeded';
  counts?: Record<string, number>;
  /** Why it failed, or what the hold is about. */
  message?: string;
  errors?: string[];
}

export interface RecordsChangedData {
  runId: string;
  mappingId: string;
  objectId: string;
  created: string[];
  updated: Array<{ id: string; fields: string[] }>;
  removed: Array<{ id: string; reason: string }>;
}

export interface ReauthorizationData {
  source: string;
  reason: string;
}

/** The credential health check found the Google connection failing while its grant still stands. */
export interface ConnectionFailingData {
  source: string;
  reason: string;
  /** The admin whose authorization the connection uses, and what Google says of them. */
  admin: { email: string | null; status: string };
}

export type TenantEvent =
  | { type: 'run.failed' | 'run.held' | 'run.succeeded_with_errors'; data: RunEventData }
  | { type: 'records.changed'; data: RecordsChangedData }
  | { type: 'tenant.needs_reauthorization'; data: ReauthorizationData }
  | { type: 'tenant.connection_failing'; data: ConnectionFailingData };

/**
 * The event id (Standard Webhooks' `webhook-id`, the outbox document id): derived from what makes the event
 * the same event, so an emit repeated by a redelivered sync message finds the event already there and a host
 * that deduplicates by id sees it once.
 */
export function eventIdFor(tenantId: string, type: EventType, dedupeKey: string): string {
  return `evt_${createHash('sha256').update(`${tenantId}\n${type}\n${dedupeKey}`).digest('hex').slice(0, 32)}`;
}

/** The body a webhook receives (and the email is written from): `{type, timestamp, data}` as Standard Webhooks suggests. */
export interface EventBody {
  id: string;
  type: EventType;
  timestamp: string;
  tenantId: string;
  data: TenantEvent['data'];
}

export const EVENT_ID_PATTERN = /^evt_[0-9a-f]{32}$/;
