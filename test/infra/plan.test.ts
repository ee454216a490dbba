import { describe, expect, it } from 'vitest';
import { applyPlan, ReplaceNotAllowedError, type InfraPorts } from '../../infra/apply.js';
import { desiredPubSub } from '../../infra/desired-state.js';
import { computePlan, formatPlan, type ResourceSet } from '../../infra/plan.js';
import type { PubSubAdmin } from '../../infra/pubsub-admin.js';
import type { SubscriptionSpec } from '../../infra/resource-specs.js';

const desired: ResourceSet = {
  ...desiredPubSub({
    env: 'prod',
    pushEndpoints: {
      tick: 'https://f.example/tick',
      syncEntity: 'https://f.example/syncEntity',
      deadLetter: 'https://f.example/deadLetter',
      deliverNotifications: 'https://f.example/deliverNotifications',
    },
    pushServiceAccount: 'push@p.iam.gserviceaccount.com',
  }),
  jobs: [],
};

/** The current state as the real API reports it right after our create. */
function inSync(): ResourceSet {
  return structuredClone(desired);
}

function subscription(state: ResourceSet, name: string): SubscriptionSpec {
  const found = state.subscriptions.find((s) => s.name === name);
  if (!found) throw new Error(name);
  return found;
}

function recordingPorts(): { ports: InfraPorts; calls: string[] } {
  const calls: string[] = [];
  const record = (op: string) => async (arg: { name: string } | string, mask?: readonly string[]) => {
    calls.push(`${op} ${typeof arg === 'string' ? arg : arg.name}${mask ? ` [${mask.join()}]` : ''}`);
  };
  const pubsub: PubSubAdmin = {
    projectId: 'p',
    cannotUpdate: new Set(),
    listTopics: async () => [],
    listSubscriptions: async () => [],
    createTopic: record('createTopic'),
    updateTopic: record('updateTopic'),
    deleteTopic: record('deleteTopic'),
    createSubscription: record('createSubscription'),
    updateSubscription: record('updateSubscription'),
    deleteSubscription: record('deleteSubscription'),
  };
  return { ports: { pubsub }, calls };
}

describe('computePlan', () => {
  it('plans nothing when the current state matches', () => {
    expect(formatPlan(computePlan(desired, inSync(), { env: 'prod' }))).toBe(
      'No changes. 8 resource(s) up to date.',
    );
  });

  it('turns the API default 31-day expiry into a never-expire update', () => {
    const current = inSync();
    subscription(current, 'ws-sync-dead-letter-push').expirationTtlSeconds = 31 * 24 * 3600;
    expect(formatPlan(computePlan(desired, current, { env: 'prod' }))).toBe(
      '~ update subscription ws-sync-dead-letter-push: expirationTtlSeconds 2678400 -> (unset)',
    );
  });

  it('keeps foreign label keys and only updates ours', () => {
    const current = inSync();
    subscription(current, 'ws-sync-tick-push').labels = {
      app: 'workspace-sync',
      env: 'staging',
      owner: 'it-ops',
    };
    const plan = computePlan(desired, current, { env: 'prod' });
    const update = plan.actions.find((a) => a.op === 'update');
    expect(update?.op === 'update' && update.update).toMatchObject({
      kind: 'subscription',
      mask: ['labels'],
      spec: { labels: { app: 'workspace-sync', env: 'prod', owner: 'it-ops' } },
    });
    expect(formatPlan(plan)).toBe('~ update subscription ws-sync-tick-push: labels.env "staging" -> "prod"');
  });

  it('reports drift the endpoint cannot update as a note instead of an action', () => {
    const current = inSync();
    current.topics[0]!.labels = {};
    const plan = computePlan(desired, current, { env: 'prod', pubsubCannotUpdate: new Set(['labels']) });
    expect(formatPlan(plan)).toBe(
      'No changes. 8 resource(s) up to date.\nnote: topic ws-sync-tick: labels.app, labels.env differ but this Pub/Sub endpoint cannot update them',
    );
  });

  it('combines several changed fields of a subscription into one update with each mask path once', () => {
    const current = inSync();
    const sub = subscription(current, 'ws-sync-entity-push');
    sub.retry = { minimumBackoffSeconds: 1, maximumBackoffSeconds: 2 };
    sub.deadLetter = null;
    sub.push = null;
    const [action] = computePlan(desired, current, { env: 'prod' }).actions.filter((a) => a.op !== 'noop');
    expect(action?.op === 'update' && action.update.mask).toEqual([
      'push_config',
      'retry_policy',
      'dead_letter_policy',
    ]);
  });
});

describe('applyPlan', () => {
  it('refuses to re-create a subscription whose topic changed unless allowed, then deletes and creates it', async () => {
    const current = inSync();
    subscription(current, 'ws-sync-tick-push').topic = '_deleted-topic_';
    const plan = computePlan(desired, current, { env: 'prod' });
    expect(formatPlan(plan)).toMatch(
      /^-\/\+ replace subscription ws-sync-tick-push .*topic "_deleted-topic_" -> "ws-sync-tick"/,
    );

    const { ports, calls } = recordingPorts();
    await expect(applyPlan(ports, plan)).rejects.toThrow(ReplaceNotAllowedError);
    expect(calls).toEqual([]);
    await applyPlan(ports, plan, { allowReplace: true });
    expect(calls).toEqual(['deleteSubscription ws-sync-tick-push', 'createSubscription ws-sync-tick-push']);
  });

  it('creates topics before subscriptions, and deletes subscriptions before topics', async () => {
    const current: ResourceSet = {
      topics: [{ name: 'ws-sync-old', labels: { app: 'workspace-sync', env: 'prod' } }],
      subscriptions: [
        {
          ...subscription(inSync(), 'ws-sync-dead-letter-push'),
          name: 'ws-sync-old-sub',
          topic: 'ws-sync-old',
        },
      ],
      jobs: [],
    };
    const { ports, calls } = recordingPorts();
    await applyPlan(ports, computePlan(desired, current, { env: 'prod', prune: true }));
    expect(calls).toEqual([
      'createTopic ws-sync-tick',
      'createTopic ws-sync-entity',
      'createTopic ws-sync-dead-letter',
      'createTopic ws-sync-notifications',
      'createSubscription ws-sync-tick-push',
      'createSubscription ws-sync-entity-push',
      'createSubscription ws-sync-dead-letter-push',
      'createSubscription ws-sync-notifications-push',
      'deleteSubscription ws-sync-old-sub',
      'deleteTopic ws-sync-old',
    ]);
  });
});
