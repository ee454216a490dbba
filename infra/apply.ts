import type { PubSubAdmin } from './pubsub-admin.js';
import type { SchedulerAdmin } from './scheduler-admin.js';
import {
  actionTarget,
  computePlan,
  type Plan,
  type PlanAction,
  type PlanOptions,
  type ResourceSet,
} from './plan.js';
import type { ResourceKind, ResourceSpec } from './resource-specs.js';

export interface InfraPorts {
  pubsub: PubSubAdmin;
  /** Absent for the local stack, which has no Cloud Scheduler (infra/local-scheduler.ts stands in). */
  scheduler?: SchedulerAdmin;
}

export interface InfraRunOptions {
  env: string;
  prune?: boolean;
  /** Let apply delete and re-create a subscription whose topic changed; its undelivered messages are lost. */
  allowReplace?: boolean;
}

export class ReplaceNotAllowedError extends Error {}

export async function readCurrentState(ports: InfraPorts): Promise<ResourceSet> {
  const [topics, subscriptions, jobs] = await Promise.all([
    ports.pubsub.listTopics(),
    ports.pubsub.listSubscriptions(),
    ports.scheduler ? ports.scheduler.listJobs() : Promise.resolve([]),
  ]);
  return { topics, subscriptions, jobs };
}

function planOptions(ports: InfraPorts, opts: InfraRunOptions): PlanOptions {
  return { env: opts.env, prune: opts.prune ?? false, pubsubCannotUpdate: ports.pubsub.cannotUpdate };
}

export async function planInfra(
  ports: InfraPorts,
  desired: ResourceSet,
  opts: InfraRunOptions,
): Promise<Plan> {
  if (!ports.scheduler && desired.jobs.length > 0) {
    throw new Error('desired state has scheduler jobs but no SchedulerAdmin was given');
  }
  return computePlan(desired, await readCurrentState(ports), planOptions(ports, opts));
}

async function create(ports: InfraPorts, resource: ResourceSpec): Promise<void> {
  switch (resource.kind) {
    case 'topic':
      return ports.pubsub.createTopic(resource.spec);
    case 'subscription':
      return ports.pubsub.createSubscription(resource.spec);
    case 'job':
      return requireScheduler(ports).createJob(resource.spec);
  }
}

async function remove(ports: InfraPorts, kind: ResourceKind, name: string): Promise<void> {
  switch (kind) {
    case 'topic':
      return ports.pubsub.deleteTopic(name);
    case 'subscription':
      return ports.pubsub.deleteSubscription(name);
    case 'job':
      return requireScheduler(ports).deleteJob(name);
  }
}

function requireScheduler(ports: InfraPorts): SchedulerAdmin {
  if (!ports.scheduler) throw new Error('a scheduler job action needs a SchedulerAdmin');
  return ports.scheduler;
}

async function run(ports: InfraPorts, action: PlanAction): Promise<void> {
  switch (action.op) {
    case 'noop':
      return;
    case 'create':
      return create(ports, action.resource);
    case 'update': {
      const u = action.update;
      if (u.kind === 'topic') return ports.pubsub.updateTopic(u.spec, u.mask);
      if (u.kind === 'subscription') return ports.pubsub.updateSubscription(u.spec, u.mask);
      return requireScheduler(ports).updateJob(u.spec, u.mask);
    }
    case 'replace':
      await remove(ports, action.resource.kind, action.resource.spec.name);
      return create(ports, action.resource);
    case 'delete':
      return remove(ports, action.kind, action.name);
  }
}

/**
 * Topics first (subscriptions and jobs point at them), then subscriptions, then jobs; deletions run in the
 * reverse order so nothing is left pointing at a missing topic mid-way.
 */
const BUILD_ORDER: Record<ResourceKind, number> = { topic: 0, subscription: 1, job: 2 };

export function executionOrder(actions: readonly PlanAction[]): PlanAction[] {
  const builds = actions.filter((a) => a.op !== 'delete' && a.op !== 'noop');
  const deletes = actions.filter((a) => a.op === 'delete');
  const rank = (a: PlanAction) => BUILD_ORDER[actionTarget(a).kind];
  return [...builds.sort((a, b) => rank(a) - rank(b)), ...deletes.sort((a, b) => rank(b) - rank(a))];
}

/** Runs a plan's actions one by one, so a failure leaves everything before it applied and says where it stopped. */
export async function applyPlan(
  ports: InfraPorts,
  plan: Plan,
  opts: Pick<InfraRunOptions, 'allowReplace'> = {},
) {
  const replaces = plan.actions.filter((a) => a.op === 'replace');
  if (replaces.length > 0 && !opts.allowReplace) {
    const names = replaces.map((a) => actionTarget(a).name).join(', ');
    throw new ReplaceNotAllowedError(
      `${names} must be re-created (an immutable field changed); re-run with --allow-replace`,
    );
  }
  const applied: PlanAction[] = [];
  for (const action of executionOrder(plan.actions)) {
    try {
      await run(ports, action);
    } catch (err) {
      const { kind, name } = actionTarget(action);
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`${action.op} ${kind} ${name} failed after ${applied.length} change(s): ${reason}`, {
        cause: err,
      });
    }
    applied.push(action);
  }
  return applied;
}

export async function applyInfra(
  ports: InfraPorts,
  desired: ResourceSet,
  opts: InfraRunOptions,
): Promise<{ plan: Plan; applied: PlanAction[] }> {
  const plan = await planInfra(ports, desired, opts);
  const applied = await applyPlan(ports, plan, opts);
  return { plan, applied };
}
