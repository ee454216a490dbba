import { randomUUID } from 'node:crypto';

/** A run id: sortable by start time, unique across instances. */
export function newRunId(now: number): string {
  return `${new Date(now)
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomUUID().slice(0, 8)}`;
}
