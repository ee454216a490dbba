import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { z } from 'zod';
import { applyPlan, planInfra, type InfraPorts } from './apply.js';
import { InfraConfigError, parseInfraConfig, type InfraConfig } from './config.js';
import { desiredState } from './desired-state.js';
import { formatAction, formatPlan, hasChanges } from './plan.js';
import { createPubSubAdmin } from './pubsub-admin.js';
import { createSchedulerAdmin, createSchedulerClient } from './scheduler-admin.js';

const USAGE = `Usage: tsx infra/cli.ts <plan|apply|iam> [options]

  plan    print what would change, one line per action with the changed fields
  apply   make the changes (idempotent: a second apply changes nothing)
  iam     list the IAM grants infra/deploy.sh makes, and the tenant secret naming scheme

Options (or environment variables):
  --project ID             INFRA_PROJECT_ID, else GOOGLE_CLOUD_PROJECT
  --region REGION          INFRA_REGION                 e.g. europe-west1
  --functions-base-url URL INFRA_FUNCTIONS_BASE_URL     e.g. https://europe-west1-PROJECT.cloudfunctions.net
  --push-sa EMAIL|none     INFRA_PUSH_SA                identity of authenticated pushes ("none": unauthenticated)
  --env NAME               INFRA_ENV                    label value, default prod
  --time-zone TZ           INFRA_SCHEDULER_TIME_ZONE    overrides every scheduler job's time zone
  --prune                  also list (plan) / delete (apply) our resources that are no longer wanted
  --allow-replace          let apply re-create a subscription whose topic changed
  --verbose                also list resources that are up to date
  --exit-code              plan exits 2 when there are changes

PUBSUB_EMULATOR_HOST and CLOUD_SCHEDULER_EMULATOR_HOST point the commands at local emulators.`;

const envSchema = z.object({
  INFRA_PROJECT_ID: z.string().optional(),
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  INFRA_REGION: z.string().optional(),
  INFRA_FUNCTIONS_BASE_URL: z.string().optional(),
  INFRA_PUSH_SA: z.string().optional(),
  INFRA_ENV: z.string().optional(),
  INFRA_SCHEDULER_TIME_ZONE: z.string().optional(),
  // An empty value (e.g. `CLOUD_SCHEDULER_EMULATOR_HOST=` in a .env file) means "not set".
  CLOUD_SCHEDULER_EMULATOR_HOST: z
    .string()
    .optional()
    .transform((v) => v?.trim() || undefined),
});

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export interface CliDeps {
  /** Builds the ports; tests inject clients wired to emulators. */
  ports?: (config: InfraConfig) => InfraPorts & { close(): Promise<void> };
}

function defaultPorts(config: InfraConfig, schedulerEmulatorHost: string | undefined) {
  const pubsub = new PubSub({ projectId: config.projectId });
  const scheduler = createSchedulerClient({ emulatorHost: schedulerEmulatorHost });
  return {
    pubsub: createPubSubAdmin(pubsub),
    scheduler: createSchedulerAdmin(scheduler, { projectId: config.projectId, region: config.region }),
    close: async () => {
      await Promise.all([pubsub.close(), scheduler.close()]);
    },
  };
}

/** Runs one CLI invocation and returns its exit code: 0 ok, 1 failure, 2 usage error or changes with --exit-code. */
export async function runCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIo = { out: console.log, err: console.error },
  deps: CliDeps = {},
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        project: { type: 'string' },
        region: { type: 'string' },
        'functions-base-url': { type: 'string' },
        'push-sa': { type: 'string' },
        env: { type: 'string' },
        'time-zone': { type: 'string' },
        prune: { type: 'boolean', default: false },
        'allow-replace': { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        'exit-code': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (command !== 'plan' && command !== 'apply' && command !== 'iam') {
    io.err(`expected a command (plan, apply or iam), got ${command ?? 'none'}\n\n${USAGE}`);
    return 2;
  }

  const e = envSchema.parse(env);
  const pushSa = values['push-sa'] ?? e.INFRA_PUSH_SA;
  let config: InfraConfig;
  try {
    config = parseInfraConfig({
      projectId: values.project ?? e.INFRA_PROJECT_ID ?? e.GOOGLE_CLOUD_PROJECT,
      region: values.region ?? e.INFRA_REGION,
      functionsBaseUrl: values['functions-base-url'] ?? e.INFRA_FUNCTIONS_BASE_URL,
      pushServiceAccount: pushSa === 'none' ? null : pushSa,
      schedulerTimeZone: values['time-zone'] ?? e.INFRA_SCHEDULER_TIME_ZONE,
      env: values.env ?? e.INFRA_ENV,
    });
  } catch (err) {
    if (!(err instanceof InfraConfigError)) throw err;
    io.err(`${err.message}\n\n${USAGE}`);
    return 2;
  }

  const desired = desiredState(config);
  if (command === 'iam') {
    for (const g of desired.iam) {
      const condition = g.condition ? ` if ${g.condition.expression}` : '';
      io.out(`${g.principal} ${g.role} on ${g.resource}${condition}  # ${g.why}`);
    }
    const s = desired.secrets;
    io.out(
      `secrets: one per tenant and provider, ${s.idPattern}, created by the ${s.createdBy}, labels ${JSON.stringify(s.labels)}`,
    );
    return 0;
  }

  const ports = deps.ports ? deps.ports(config) : defaultPorts(config, e.CLOUD_SCHEDULER_EMULATOR_HOST);
  const runOpts = { env: config.env, prune: values.prune, allowReplace: values['allow-replace'] };
  try {
    io.out(`${command} for project ${config.projectId}, region ${config.region}, env ${config.env}`);
    const plan = await planInfra(ports, desired, runOpts);
    if (command === 'plan') {
      io.out(formatPlan(plan, { verbose: values.verbose }));
      return values['exit-code'] && hasChanges(plan) ? 2 : 0;
    }
    if (!hasChanges(plan)) {
      io.out(formatPlan(plan, { verbose: values.verbose }));
      return 0;
    }
    const applied = await applyPlan(ports, plan, runOpts);
    for (const action of applied) if (action.op !== 'noop') io.out(formatAction(action, 'apply'));
    for (const note of plan.notes) io.out(`note: ${note}`);
    io.out(`Applied ${applied.filter((a) => a.op !== 'noop').length} change(s).`);
    return 0;
  } catch (err) {
    io.err(`${command} failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await ports.close();
  }
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  process.exitCode = await runCli(process.argv.slice(2));
}
