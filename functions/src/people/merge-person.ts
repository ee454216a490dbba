import { normalizeEmail } from './normalize-email.js';
import { precedenceFor, type PrecedencePolicy } from './precedence-policy.js';
import { SOURCE_NAMES, type SourceName, type SourcePerson } from './source-person.js';

/** What one source last said about a person. Kept after removal so nothing a source told us is lost. */
export interface SourceRecord {
  sourceId: string;
  fields: Record<string, unknown>;
  active: boolean;
  lastSeenAt: string;
  removedAt?: string;
}

export type PersonStatus = 'active' | 'inactive' | 'removed';

export interface MergedPerson {
  /** Normalized email: the key that joins sources. */
  email: string;
  fields: Record<string, unknown>;
  /** Which source supplied each merged field. */
  provenance: Record<string, SourceName>;
  sources: Partial<Record<SourceName, SourceRecord>>;
  status: PersonStatus;
}

export interface SourceUpdate {
  source: SourceName;
  /** null: the person is gone from that source (deleted, or no longer synced). */
  person: SourcePerson | null;
  /** ISO-8601 time the source was observed; older observations than the stored one are ignored. */
  at: string;
}

/**
 * Folds one source's observation into the merged person. Pure: returns a new object.
 *
 * - Each field comes from the highest-precedence source (policy order, last wins) that has a non-empty value.
 * - `active` is not subject to precedence: a person is active while ANY remaining source has them active. A
 *   student suspended in Google but still enabled in Entra can still sign in somewhere, so the devices assigned
 *   to them must not be treated as orphaned; being disabled everywhere is the only safe "inactive".
 * - A source going away only drops its contribution; the person is `removed` once every source that had them
 *   is gone, and even then keeps its last values (nothing is hard-deleted, asset history still points here).
 *
 * The caller routes by email: when a source renames someone it sends `person: null` for the old address and
 * the person for the new one.
 */
export function mergePerson(
  existing: MergedPerson | null,
  update: SourceUpdate,
  policy: PrecedencePolicy,
): MergedPerson {
  const { source, person, at } = update;
  const atMs = Date.parse(at);
  if (Number.isNaN(atMs))
    throw new Error(`mergePerson: "at" must be an ISO-8601 time, got ${JSON.stringify(at)}`);

  const current = existing?.sources[source];
  if (existing && current && isOlderThanRecord(atMs, current)) return existing;

  const sources: Partial<Record<SourceName, SourceRecord>> = { ...existing?.sources };
  let email: string;
  if (person) {
    if (person.source !== source) {
      throw new Error(`mergePerson: update for ${source} carries a ${person.source} person`);
    }
    email = normalizeEmail(person.email);
    if (!email.includes('@'))
      throw new Error(`mergePerson: ${source} person ${person.sourceId} has no usable email`);
    if (existing && existing.email !== email) {
      throw new Error(`mergePerson: ${source} person ${email} was routed to ${existing.email}`);
    }
    sources[source] = {
      sourceId: person.sourceId,
      fields: { ...person.fields },
      active: person.active,
      lastSeenAt: at,
    };
  } else {
    if (!existing) throw new Error(`mergePerson: removal from ${source} needs the existing merged person`);
    if (!current || current.removedAt !== undefined) return existing;
    email = existing.email;
    sources[source] = { ...current, removedAt: at };
  }

  const live = liveSources(sources);
  if (live.length === 0) {
    // Removed everywhere: keep the last merged view for history, but never report the person as active.
    return {
      email,
      fields: { ...existing?.fields, active: false },
      provenance: { ...existing?.provenance },
      sources,
      status: 'removed',
    };
  }

  const { fields, provenance } = resolveFields(live, policy);
  const active = resolveActive(live, policy);
  fields.active = active.value;
  provenance.active = active.source;
  return { email, fields, provenance, sources, status: active.value ? 'active' : 'inactive' };
}

type LiveSource = readonly [SourceName, SourceRecord];

function isOlderThanRecord(atMs: number, record: SourceRecord): boolean {
  const latest = Math.max(
    Date.parse(record.lastSeenAt),
    record.removedAt ? Date.parse(record.removedAt) : -Infinity,
  );
  return atMs < latest;
}

function liveSources(sources: Partial<Record<SourceName, SourceRecord>>): LiveSource[] {
  const live: LiveSource[] = [];
  for (const name of SOURCE_NAMES) {
    const record = sources[name];
    if (record && record.removedAt === undefined) live.push([name, record]);
  }
  return live;
}

function resolveFields(
  live: readonly LiveSource[],
  policy: PrecedencePolicy,
): { fields: Record<string, unknown>; provenance: Record<string, SourceName> } {
  const byName = new Map(live);
  // Sorted so the stored document (and any diff of it) does not depend on which source arrived first.
  const names = [...new Set(live.flatMap(([, record]) => Object.keys(record.fields)))].sort();
  const fields: Record<string, unknown> = {};
  const provenance: Record<string, SourceName> = {};
  for (const field of names) {
    if (field === 'active') continue;
    const order = precedenceFor(policy, field);
    for (let i = order.length - 1; i >= 0; i--) {
      const name = order[i];
      const value = name === undefined ? undefined : byName.get(name)?.fields[field];
      if (name !== undefined && hasValue(value)) {
        fields[field] = value;
        provenance[field] = name;
        break;
      }
    }
  }
  return { fields, provenance };
}

/**
 * Credits `active` to the highest-precedence (default order) source that has the person active, or, when none
 * does, to the highest-precedence remaining source.
 */
function resolveActive(
  live: readonly LiveSource[],
  policy: PrecedencePolicy,
): { value: boolean; source: SourceName } {
  const rank = (name: SourceName) => policy.default.indexOf(name);
  const ranked = [...live].sort(([a], [b]) => rank(b) - rank(a));
  const credited = ranked.find(([, record]) => record.active) ?? ranked[0];
  if (!credited) throw new Error('resolveActive: no live source');
  return { value: credited[1].active, source: credited[0] };
}

/** Empty strings, empty lists and empty objects are "no value": a blank Entra department must not erase Google's. */
export function hasValue(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}
