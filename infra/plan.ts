import { APP_LABEL, ENV_LABEL_KEY, MANAGED_NAME_PREFIX } from './desired-state.js';
import type { SubscriptionField, TopicField } from './pubsub-admin.js';
import type { JobField } from './scheduler-admin.js';
import type {
  JobSpec,
  Labels,
  ResourceKind,
  ResourceSpec,
  SubscriptionSpec,
  TopicSpec,
} from './resource-specs.js';

export type FieldValue = string | number | boolean | null;

export interface FieldChange {
  field: string;
  from: FieldValue;
  to: FieldValue;
}

/** What an update sends: the full desired spec plus the update-mask paths that changed. */
export type ResourceUpdate =
  | { kind: 'topic'; spec: TopicSpec; mask: TopicField[] }
  | { kind: 'subscription'; spec: SubscriptionSpec; mask: SubscriptionField[] }
  | { kind: 'job'; spec: JobSpec; mask: JobField[] };

export type PlanAction =
  | { op: 'create'; resource: ResourceSpec }
  | { op: 'update'; update: ResourceUpdate; changes: FieldChange[] }
  /** An immutable field changed: the resource is deleted and created again (loses undelivered messages). */
  | { op: 'replace'; resource: ResourceSpec; changes: FieldChange[] }
  | { op: 'delete'; kind: ResourceKind; name: string }
  | { op: 'noop'; kind: ResourceKind; name: string };

export interface Plan {
  actions: PlanAction[];
  /** Things worth knowing that are not actions: stale resources left alone, drift the target cannot fix. */
  notes: string[];
}

export interface ResourceSet {
  topics: TopicSpec[];
  subscriptions: SubscriptionSpec[];
  jobs: JobSpec[];
}

export interface PlanOptions {
  /** Our env label; only resources carrying it (and our app label and name prefix) are ever deleted. */
  env: string;
  /** List (and let apply delete) managed resources that are no longer desired. */
  prune?: boolean;
  /** Update-mask paths the Pub/Sub endpoint rejects (the emulator: labels, expiration_policy). */
  pubsubCannotUpdate?: ReadonlySet<SubscriptionField>;
}

// ---------------------------------------------------------------------------------------------------------
// Field-level views of each kind: flat `path -> value` maps, and which update-mask path a field belongs to.

type Fields = Record<string, FieldValue>;

function labelFields(labels: Labels, keys: Iterable<string>): Fields {
  const out: Fields = {};
  for (const key of keys) out[`labels.${key}`] = labels[key] ?? null;
  return out;
}

/** Attributes are data, compared as a whole (unlike labels, where foreign keys are left alone). */
function mapText(map: Labels): string {
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${map[k]}`)
    .join(',');
}

function topicFields(t: TopicSpec, labelKeys: Iterable<string>): Fields {
  return labelFields(t.labels, labelKeys);
}

function subscriptionFields(s: SubscriptionSpec, labelKeys: Iterable<string>): Fields {
  return {
    topic: s.topic,
    'push.endpoint': s.push?.endpoint ?? null,
    'push.oidcServiceAccount': s.push?.oidcServiceAccount ?? null,
    'push.audience': s.push?.audience ?? null,
    ackDeadlineSeconds: s.ackDeadlineSeconds,
    'retry.minimumBackoffSeconds': s.retry?.minimumBackoffSeconds ?? null,
    'retry.maximumBackoffSeconds': s.retry?.maximumBackoffSeconds ?? null,
    'deadLetter.topic': s.deadLetter?.topic ?? null,
    'deadLetter.maxDeliveryAttempts': s.deadLetter?.maxDeliveryAttempts ?? null,
    messageRetentionSeconds: s.messageRetentionSeconds,
    expirationTtlSeconds: s.expirationTtlSeconds,
    ...labelFields(s.labels, labelKeys),
  };
}

function jobFields(j: JobSpec): Fields {
  return {
    description: j.description,
    schedule: j.schedule,
    timeZone: j.timeZone,
    'pubsubTarget.topic': j.pubsubTarget?.topic ?? null,
    'pubsubTarget.data': j.pubsubTarget
      ? Buffer.from(j.pubsubTarget.dataBase64, 'base64').toString('utf8')
      : null,
    'pubsubTarget.attributes': j.pubsubTarget ? mapText(j.pubsubTarget.attributes) : null,
    'retry.retryCount': j.retry.retryCount,
    'retry.maxRetryDurationSeconds': j.retry.maxRetryDurationSeconds,
    'retry.minBackoffSeconds': j.retry.minBackoffSeconds,
    'retry.maxBackoffSeconds': j.retry.maxBackoffSeconds,
    'retry.maxDoublings': j.retry.maxDoublings,
  };
}

const IMMUTABLE = 'immutable' as const;

function subscriptionMaskOf(field: string): SubscriptionField | typeof IMMUTABLE {
  if (field === 'topic') return IMMUTABLE;
  if (field.startsWith('push.')) return 'push_config';
  if (field === 'ackDeadlineSeconds') return 'ack_deadline_seconds';
  if (field.startsWith('retry.')) return 'retry_policy';
  if (field.startsWith('deadLetter.')) return 'dead_letter_policy';
  if (field === 'messageRetentionSeconds') return 'message_retention_duration';
  if (field === 'expirationTtlSeconds') return 'expiration_policy';
  if (field.startsWith('labels.')) return 'labels';
  throw new Error(`no update mask for subscription field ${field}`);
}

function jobMaskOf(field: string): JobField {
  if (field === 'description' || field === 'schedule') return field;
  if (field === 'timeZone') return 'time_zone';
  if (field.startsWith('pubsubTarget.')) return 'pubsub_target';
  if (field.startsWith('retry.')) return 'retry_config';
  throw new Error(`no update mask for job field ${field}`);
}

function diffFields(current: Fields, desired: Fields): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const [field, to] of Object.entries(desired)) {
    const from = current[field] ?? null;
    if (from !== to) changes.push({ field, from, to });
  }
  return changes;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

// ---------------------------------------------------------------------------------------------------------

function isManagedPubSub(name: string, labels: Labels, env: string): boolean {
  return (
    name.startsWith(MANAGED_NAME_PREFIX) &&
    labels[APP_LABEL.key] === APP_LABEL.value &&
    labels[ENV_LABEL_KEY] === env
  );
}

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((i) => [i.name, i]));
}

/**
 * Compares what we want with what exists. Resources we do not own are never touched; owned ones that are
 * no longer wanted are only listed for deletion with `prune`.
 */
export function computePlan(desired: ResourceSet, current: ResourceSet, opts: PlanOptions): Plan {
  const actions: PlanAction[] = [];
  const notes: string[] = [];
  const cannotUpdate = opts.pubsubCannotUpdate ?? new Set<SubscriptionField>();

  /** Drift the endpoint cannot fix is reported, not planned, so plans stay actionable. */
  const withoutUnfixable = (kind: ResourceKind, name: string, changes: FieldChange[]) => {
    const unfixable = changes.filter((c) => {
      const mask = subscriptionMaskOf(c.field);
      return mask !== IMMUTABLE && cannotUpdate.has(mask);
    });
    if (unfixable.length === 0) return changes;
    notes.push(
      `${kind} ${name}: ${unfixable.map((c) => c.field).join(', ')} differ but this Pub/Sub endpoint cannot update them`,
    );
    return changes.filter((c) => !unfixable.includes(c));
  };

  const currentTopics = byName(current.topics);
  for (const want of desired.topics) {
    const have = currentTopics.get(want.name);
    if (!have) {
      actions.push({ op: 'create', resource: { kind: 'topic', spec: want } });
      continue;
    }
    const keys = Object.keys(want.labels);
    const changes = withoutUnfixable(
      'topic',
      want.name,
      diffFields(topicFields(have, keys), topicFields(want, keys)),
    );
    if (changes.length === 0) {
      actions.push({ op: 'noop', kind: 'topic', name: want.name });
    } else {
      const spec = { ...want, labels: { ...have.labels, ...want.labels } };
      actions.push({ op: 'update', update: { kind: 'topic', spec, mask: ['labels'] }, changes });
    }
  }

  const currentSubscriptions = byName(current.subscriptions);
  for (const want of desired.subscriptions) {
    const have = currentSubscriptions.get(want.name);
    if (!have) {
      actions.push({ op: 'create', resource: { kind: 'subscription', spec: want } });
      continue;
    }
    const keys = Object.keys(want.labels);
    const changes = withoutUnfixable(
      'subscription',
      want.name,
      diffFields(subscriptionFields(have, keys), subscriptionFields(want, keys)),
    );
    // Foreign label keys (cost centre, owner, ...) survive our updates.
    const spec = { ...want, labels: { ...have.labels, ...want.labels } };
    const masks = changes.map((c) => subscriptionMaskOf(c.field));
    if (changes.length === 0) {
      actions.push({ op: 'noop', kind: 'subscription', name: want.name });
    } else if (masks.includes(IMMUTABLE)) {
      actions.push({ op: 'replace', resource: { kind: 'subscription', spec }, changes });
    } else {
      const mask = unique(masks.filter((m): m is SubscriptionField => m !== IMMUTABLE));
      actions.push({ op: 'update', update: { kind: 'subscription', spec, mask }, changes });
    }
  }

  const currentJobs = byName(current.jobs);
  for (const want of desired.jobs) {
    const have = currentJobs.get(want.name);
    if (!have) {
      actions.push({ op: 'create', resource: { kind: 'job', spec: want } });
      continue;
    }
    const changes = diffFields(jobFields(have), jobFields(want));
    if (changes.length === 0) {
      actions.push({ op: 'noop', kind: 'job', name: want.name });
    } else {
      const mask = unique(changes.map((c) => jobMaskOf(c.field)));
      actions.push({ op: 'update', update: { kind: 'job', spec: want, mask }, changes });
    }
  }

  const wanted = {
    topic: new Set(desired.topics.map((t) => t.name)),
    subscription: new Set(desired.subscriptions.map((s) => s.name)),
    job: new Set(desired.jobs.map((j) => j.name)),
  };
  const stale: Array<{ kind: ResourceKind; name: string }> = [
    ...current.jobs
      .filter((j) => j.name.startsWith(MANAGED_NAME_PREFIX) && !wanted.job.has(j.name))
      .map((j) => ({ kind: 'job' as const, name: j.name })),
    ...current.subscriptions
      .filter((s) => isManagedPubSub(s.name, s.labels, opts.env) && !wanted.subscription.has(s.name))
      .map((s) => ({ kind: 'subscription' as const, name: s.name })),
    ...current.topics
      .filter((t) => isManagedPubSub(t.name, t.labels, opts.env) && !wanted.topic.has(t.name))
      .map((t) => ({ kind: 'topic' as const, name: t.name })),
  ];
  if (opts.prune) {
    for (const s of stale) actions.push({ op: 'delete', ...s });
  } else if (stale.length > 0) {
    notes.push(
      `${stale.length} managed resource(s) are no longer in the desired state (${stale.map((s) => `${s.kind} ${s.name}`).join(', ')}); run with --prune to delete them`,
    );
  }
  return { actions, notes };
}

export function hasChanges(plan: Plan): boolean {
  return plan.actions.some((a) => a.op !== 'noop');
}

export function actionTarget(action: PlanAction): { kind: ResourceKind; name: string } {
  switch (action.op) {
    case 'create':
    case 'replace':
      return { kind: action.resource.kind, name: action.resource.spec.name };
    case 'update':
      return { kind: action.update.kind, name: action.update.spec.name };
    case 'delete':
    case 'noop':
      return { kind: action.kind, name: action.name };
  }
}

// ---------------------------------------------------------------------------------------------------------

function show(value: FieldValue): string {
  if (value === null) return '(unset)';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function fieldsOf(resource: ResourceSpec): Fields {
  switch (resource.kind) {
    case 'topic':
      return topicFields(resource.spec, Object.keys(resource.spec.labels));
    case 'subscription':
      return subscriptionFields(resource.spec, Object.keys(resource.spec.labels));
    case 'job':
      return jobFields(resource.spec);
  }
}

export type PlanMode = 'plan' | 'apply';

export function formatAction(action: PlanAction, mode: PlanMode = 'plan'): string {
  const { kind, name } = actionTarget(action);
  const changeList = (changes: FieldChange[]) =>
    changes.map((c) => `${c.field} ${show(c.from)} -> ${show(c.to)}`).join(', ');
  switch (action.op) {
    case 'create': {
      const set = Object.entries(fieldsOf(action.resource))
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k}=${show(v)}`);
      return `+ create ${kind} ${name}: ${set.join(', ')}`;
    }
    case 'update':
      return `~ update ${kind} ${name}: ${changeList(action.changes)}`;
    case 'replace':
      return `-/+ replace ${kind} ${name} (cannot change in place; undelivered messages are lost): ${changeList(action.changes)}`;
    case 'delete':
      return `- ${mode === 'plan' ? 'would delete' : 'delete'} ${kind} ${name}`;
    case 'noop':
      return `  ${kind} ${name}: up to date`;
  }
}

/** One line per action that changes something, then the notes; "No changes." when there is nothing to do. */
export function formatPlan(plan: Plan, opts: { verbose?: boolean; mode?: PlanMode } = {}): string {
  const lines = plan.actions
    .filter((a) => opts.verbose || a.op !== 'noop')
    .map((a) => formatAction(a, opts.mode));
  const upToDate = plan.actions.filter((a) => a.op === 'noop').length;
  if (!hasChanges(plan)) lines.push(`No changes. ${upToDate} resource(s) up to date.`);
  for (const note of plan.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
