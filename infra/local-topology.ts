import type { PubSub } from '@google-cloud/pubsub';
import { applyInfra } from './apply.js';
import type { FunctionTarget } from '../shared/topology.js';
import { desiredPubSub, type Topology } from './desired-state.js';
import type { PlanAction } from './plan.js';
import { createPubSubAdmin } from './pubsub-admin.js';

export interface LocalTopologyOptions {
  /** Where the emulator pushes to: the local functions-framework URLs of each function. */
  pushEndpoints: Readonly<Record<FunctionTarget, string>>;
  /** Label value of the local resources; `local` unless told otherwise. */
  env?: string;
  topology?: Topology;
}

export interface LocalTopology {
  topics: string[];
  subscriptions: string[];
  /** What had to change; empty when the emulator already matched. */
  changes: PlanAction[];
}

/**
 * Creates (or brings up to date) the cloud's topics and push subscriptions in the Pub/Sub emulator, from the
 * same desired-state and diff code `infra/cli.ts apply` uses, so local and cloud cannot drift. Pushes are
 * unauthenticated: the local functions do not verify OIDC tokens. Idempotent.
 */
export async function ensureLocalTopology(
  pubsub: PubSub,
  options: LocalTopologyOptions,
): Promise<LocalTopology> {
  const env = options.env ?? 'local';
  const desired = desiredPubSub({
    env,
    pushEndpoints: options.pushEndpoints,
    pushServiceAccount: null,
    ...(options.topology ? { topology: options.topology } : {}),
  });
  const { applied } = await applyInfra(
    { pubsub: createPubSubAdmin(pubsub) },
    { ...desired, jobs: [] },
    // A local topic whose subscription points at another topic is re-created: local messages are disposable.
    { env, allowReplace: true },
  );
  return {
    topics: desired.topics.map((t) => t.name),
    subscriptions: desired.subscriptions.map((s) => s.name),
    changes: applied.filter((a) => a.op !== 'noop'),
  };
}
