import {
  SCHEDULER_JOBS,
  SUBSCRIPTIONS,
  TOPICS,
  type FunctionTarget,
  type SchedulerJobDefinition,
  type SubscriptionDefinition,
} from '../shared/topology.js';
import type { InfraConfig } from './config.js';
import type { JobRetrySpec, JobSpec, Labels, SubscriptionSpec, TopicSpec } from './resource-specs.js';

export const APP_LABEL = { key: 'app', value: 'workspace-sync' } as const;
export const ENV_LABEL_KEY = 'env';

/**
 * Every topic, subscription and job we own starts with this. Cloud Scheduler jobs carry no labels, so for
 * them the name is the only ownership mark; pruning never touches anything without it.
 */
export const MANAGED_NAME_PREFIX = 'ws-sync-';

/** The deployed function behind each push target (see infra/deploy.sh). */
export const FUNCTION_NAMES: Readonly<Record<FunctionTarget, string>> = {
  tick: 'tick',
  syncEntity: 'syncEntity',
  deadLetter: 'deadLetter',
  deliverNotifications: 'deliverNotifications',
};

/**
 * A Pub/Sub publish from Cloud Scheduler rarely fails, and a missed tick is caught up by the next pass, so a
 * few spaced retries are enough; the job never keeps two executions outstanding anyway.
 */
export const JOB_RETRY: JobRetrySpec = {
  retryCount: 3,
  maxRetryDurationSeconds: 0,
  minBackoffSeconds: 30,
  maxBackoffSeconds: 600,
  maxDoublings: 3,
};

export interface Topology {
  topics: readonly string[];
  subscriptions: readonly SubscriptionDefinition[];
  jobs: readonly SchedulerJobDefinition[];
}

export const TOPOLOGY: Topology = {
  topics: Object.values(TOPICS),
  subscriptions: SUBSCRIPTIONS,
  jobs: SCHEDULER_JOBS,
};

export interface PubSubStateOptions {
  env: string;
  pushEndpoints: Readonly<Record<FunctionTarget, string>>;
  /** null: pushes carry no OIDC token (the local emulator stack). */
  pushServiceAccount: string | null;
  topology?: Topology;
}

export interface DesiredPubSub {
  topics: TopicSpec[];
  subscriptions: SubscriptionSpec[];
}

export interface DesiredState extends DesiredPubSub {
  projectId: string;
  region: string;
  env: string;
  jobs: JobSpec[];
  secrets: SecretScheme;
  iam: IamGrant[];
}

export function managedLabels(env: string): Labels {
  return { [APP_LABEL.key]: APP_LABEL.value, [ENV_LABEL_KEY]: env };
}

export function pushEndpointsFor(functionsBaseUrl: string): Record<FunctionTarget, string> {
  const base = functionsBaseUrl.replace(/\/+$/, '');
  return {
    tick: `${base}/${FUNCTION_NAMES.tick}`,
    syncEntity: `${base}/${FUNCTION_NAMES.syncEntity}`,
    deadLetter: `${base}/${FUNCTION_NAMES.deadLetter}`,
    deliverNotifications: `${base}/${FUNCTION_NAMES.deliverNotifications}`,
  };
}

function assertManagedName(kind: string, name: string): void {
  // The prune safety rests on this prefix, so a topology entry without it is a bug, not a style issue.
  if (!name.startsWith(MANAGED_NAME_PREFIX)) {
    throw new Error(`${kind} "${name}" in shared/topology.ts must start with "${MANAGED_NAME_PREFIX}"`);
  }
}

export function desiredSubscription(
  def: SubscriptionDefinition,
  opts: Omit<PubSubStateOptions, 'topology'>,
): SubscriptionSpec {
  assertManagedName('subscription', def.name);
  const endpoint = def.pushTo === null ? null : opts.pushEndpoints[def.pushTo];
  return {
    name: def.name,
    topic: def.topic,
    push:
      endpoint === null
        ? null
        : {
            endpoint,
            oidcServiceAccount: opts.pushServiceAccount,
            // The function checks the token was minted for its own URL.
            audience: opts.pushServiceAccount === null ? null : endpoint,
          },
    ackDeadlineSeconds: def.ackDeadlineSeconds,
    retry: { ...def.retry },
    deadLetter: def.deadLetter === null ? null : { ...def.deadLetter },
    messageRetentionSeconds: def.messageRetentionSeconds,
    // The dead-letter subscription may see no message for months; with the default 31-day expiry of an
    // inactive subscription it would vanish.
    expirationTtlSeconds: null,
    labels: managedLabels(opts.env),
  };
}

export function desiredPubSub(opts: PubSubStateOptions): DesiredPubSub {
  const topology = opts.topology ?? TOPOLOGY;
  for (const topic of topology.topics) assertManagedName('topic', topic);
  return {
    topics: topology.topics.map((name) => ({ name, labels: managedLabels(opts.env) })),
    subscriptions: topology.subscriptions.map((def) => desiredSubscription(def, opts)),
  };
}

/** The exact bytes Cloud Scheduler publishes; the local scheduler publishes the same ones. */
export function jobPayloadBase64(def: SchedulerJobDefinition): string {
  return Buffer.from(JSON.stringify(def.payload), 'utf8').toString('base64');
}

export function desiredJob(def: SchedulerJobDefinition, timeZoneOverride?: string): JobSpec {
  assertManagedName('scheduler job', def.name);
  return {
    name: def.name,
    description: def.description,
    schedule: def.schedule,
    timeZone: timeZoneOverride ?? def.timeZone,
    pubsubTarget: { topic: def.topic, dataBase64: jobPayloadBase64(def), attributes: {} },
    retry: { ...JOB_RETRY },
  };
}

export function desiredState(config: InfraConfig, topology: Topology = TOPOLOGY): DesiredState {
  const pubsub = desiredPubSub({
    env: config.env,
    pushEndpoints: pushEndpointsFor(config.functionsBaseUrl),
    pushServiceAccount: config.pushServiceAccount,
    topology,
  });
  return {
    projectId: config.projectId,
    region: config.region,
    env: config.env,
    ...pubsub,
    jobs: topology.jobs.map((def) => desiredJob(def, config.schedulerTimeZone)),
    secrets: SECRET_SCHEME,
    iam: iamGrants(config),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Secret Manager: infra creates no secrets. The service creates one per tenant and identity provider when
// the tenant connects (functions/src/secrets/secret-id.ts), so infra only grants the runtime access to them.

export interface SecretScheme {
  idPattern: string;
  example: string;
  /** Prefix the runtime's IAM condition matches on; every tenant secret id starts with it. */
  idPrefix: string;
  labels: Labels;
  createdBy: 'runtime';
  replication: 'automatic';
}

export const SECRET_ID_PREFIX = 'ws-tenant-';

export const SECRET_SCHEME: SecretScheme = {
  idPattern: `${SECRET_ID_PREFIX}<tenantId>-<provider>-refresh`,
  example: `${SECRET_ID_PREFIX}acme-school-google-refresh`,
  idPrefix: SECRET_ID_PREFIX,
  labels: { [APP_LABEL.key]: APP_LABEL.value, tenant: '<tenantId>', provider: '<provider>' },
  createdBy: 'runtime',
  replication: 'automatic',
};

// ---------------------------------------------------------------------------------------------------------
// Least-privilege IAM, applied by infra/deploy.sh (a test checks the script grants every role listed here).

export const SERVICE_ACCOUNT_IDS = {
  runtime: 'ws-sync-runtime',
  push: 'ws-sync-push',
  deployer: 'ws-sync-deployer',
} as const;

export const SECRET_CREATOR_ROLE_ID = 'wsSyncTenantSecretCreator';

export interface IamGrant {
  principal: string;
  role: string;
  /** `project`, `topic:<name>`, `subscription:<name>`, `function:<name>` or `serviceAccount:<email>`. */
  resource: string;
  condition?: { title: string; expression: string };
  why: string;
}

export function serviceAccountEmail(projectId: string, accountId: string): string {
  return `${accountId}@${projectId}.iam.gserviceaccount.com`;
}

/** `<PROJECT_NUMBER>` stays a placeholder: service agents and secret resource names use the number. */
export function iamGrants(config: Pick<InfraConfig, 'projectId' | 'pushServiceAccount'>): IamGrant[] {
  const sa = (id: string) => `serviceAccount:${serviceAccountEmail(config.projectId, id)}`;
  const runtime = sa(SERVICE_ACCOUNT_IDS.runtime);
  const push = `serviceAccount:${config.pushServiceAccount ?? serviceAccountEmail(config.projectId, SERVICE_ACCOUNT_IDS.push)}`;
  const deployer = sa(SERVICE_ACCOUNT_IDS.deployer);
  const pubsubAgent = 'serviceAccount:service-<PROJECT_NUMBER>@gcp-sa-pubsub.iam.gserviceaccount.com';
  const schedulerAgent =
    'serviceAccount:service-<PROJECT_NUMBER>@gcp-sa-cloudscheduler.iam.gserviceaccount.com';
  const tenantSecrets = {
    title: 'workspace-sync tenant secrets',
    expression: `resource.name.startsWith("projects/<PROJECT_NUMBER>/secrets/${SECRET_ID_PREFIX}")`,
  };
  const deadLetterSources = SUBSCRIPTIONS.filter((s) => s.deadLetter !== null);
  return [
    {
      principal: runtime,
      role: 'roles/datastore.user',
      resource: 'project',
      why: 'reads and writes Firestore',
    },
    {
      principal: runtime,
      role: `projects/${config.projectId}/roles/${SECRET_CREATOR_ROLE_ID}`,
      resource: 'project',
      why: 'creates a tenant secret on connect; create is checked on the project, so it cannot be name-scoped',
    },
    ...[
      'roles/secretmanager.secretAccessor',
      'roles/secretmanager.secretVersionAdder',
      'roles/secretmanager.secretVersionManager',
    ].map((role): IamGrant => ({
      principal: runtime,
      role,
      resource: 'project',
      condition: tenantSecrets,
      why: 'reads, rotates and destroys refresh-token versions of ws-tenant-* secrets only',
    })),
    {
      principal: runtime,
      role: 'roles/pubsub.publisher',
      resource: `topic:${TOPICS.sync}`,
      why: 'tick fans out, and syncEntity re-enqueues its continuation',
    },
    {
      principal: runtime,
      role: 'roles/pubsub.publisher',
      resource: `topic:${TOPICS.tick}`,
      why: 'a scheduled tick publishes its shards on the tick topic, and a full shard what is left of its range',
    },
    {
      principal: runtime,
      role: 'roles/pubsub.publisher',
      resource: `topic:${TOPICS.notifications}`,
      why: 'sync runs and the api emit notification events; the tick re-publishes stalled ones',
    },
    ...Object.values(FUNCTION_NAMES).map((fn): IamGrant => ({
      principal: push,
      role: 'roles/run.invoker',
      resource: `function:${fn}`,
      why: 'Pub/Sub push auth',
    })),
    {
      principal: schedulerAgent,
      role: 'roles/pubsub.publisher',
      resource: `topic:${TOPICS.tick}`,
      why: 'Cloud Scheduler publishes Pub/Sub targets as its service agent (jobs take no service account)',
    },
    {
      principal: pubsubAgent,
      role: 'roles/iam.serviceAccountTokenCreator',
      resource: `serviceAccount:${push.slice('serviceAccount:'.length)}`,
      why: 'mints the OIDC tokens of authenticated pushes',
    },
    {
      principal: pubsubAgent,
      role: 'roles/pubsub.publisher',
      resource: `topic:${TOPICS.deadLetter}`,
      why: 'dead-letters undeliverable messages',
    },
    ...deadLetterSources.map((s): IamGrant => ({
      principal: pubsubAgent,
      role: 'roles/pubsub.subscriber',
      resource: `subscription:${s.name}`,
      why: 'acks a message after forwarding it to the dead-letter topic',
    })),
    ...[
      'roles/cloudfunctions.developer',
      'roles/pubsub.editor',
      'roles/cloudscheduler.admin',
      'roles/firebaserules.admin',
      'roles/datastore.indexAdmin',
      'roles/firebasehosting.admin',
    ].map((role): IamGrant => ({
      principal: deployer,
      role,
      resource: 'project',
      why: 'deploys (infra/deploy.sh)',
    })),
    {
      principal: deployer,
      role: 'roles/iam.serviceAccountUser',
      resource: `serviceAccount:${serviceAccountEmail(config.projectId, SERVICE_ACCOUNT_IDS.runtime)}`,
      why: 'deploys functions that run as the runtime account',
    },
    {
      principal: deployer,
      role: 'roles/iam.serviceAccountUser',
      resource: `serviceAccount:${push.slice('serviceAccount:'.length)}`,
      why: 'a push subscription with OIDC auth may only be configured by someone who can act as its account',
    },
  ];
}
