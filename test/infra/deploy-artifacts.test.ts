import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENTRY_POINTS } from '../../functions/src/entries/entry-points.js';
import { secretIdForTenant } from '../../functions/src/secrets/secret-id.js';
import { InfraConfigError, parseInfraConfig } from '../../infra/config.js';
import { desiredState, FUNCTION_NAMES, SECRET_SCHEME, type IamGrant } from '../../infra/desired-state.js';
import { SUBSCRIPTIONS, TOPICS } from '../../shared/topology.js';

const DEPLOY_SH = fileURLToPath(new URL('../../infra/deploy.sh', import.meta.url));
const PROJECT = 'demo-deploy';
const PROJECT_NUMBER = '123456789';

const config = parseInfraConfig({
  projectId: PROJECT,
  region: 'europe-west1',
  functionsBaseUrl: `https://europe-west1-${PROJECT}.cloudfunctions.net`,
  pushServiceAccount: `ws-sync-push@${PROJECT}.iam.gserviceaccount.com`,
});

function dryRun(...extra: string[]): string[] {
  const out = execFileSync(
    'bash',
    [
      DEPLOY_SH,
      '--dry-run',
      '--project',
      PROJECT,
      '--region',
      'europe-west1',
      '--project-number',
      PROJECT_NUMBER,
      ...extra,
    ],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // printf %q escapes shell metacharacters; undo it to compare with plain values.
  return out.split('\n').map((l) => l.replace(/\\(.)/g, '$1'));
}

function commandPrefix(grant: IamGrant): string {
  const [type, name] = grant.resource.split(/:(.*)/s);
  switch (type) {
    case 'project':
      return `gcloud projects add-iam-policy-binding ${PROJECT} `;
    case 'topic':
      return `gcloud pubsub topics add-iam-policy-binding ${name} `;
    case 'subscription':
      return `gcloud pubsub subscriptions add-iam-policy-binding ${name} `;
    case 'function':
      return `gcloud functions add-invoker-policy-binding ${name} `;
    case 'serviceAccount':
      return `gcloud iam service-accounts add-iam-policy-binding ${name} `;
    default:
      throw new Error(`unexpected resource ${grant.resource}`);
  }
}

describe('infra/deploy.sh', () => {
  it('is valid bash', () => {
    expect(() => execFileSync('bash', ['-n', DEPLOY_SH])).not.toThrow();
  });

  it('grants, in dry-run, every IAM binding desired-state lists (and so stays in step with the topology)', () => {
    const lines = dryRun();
    const grants = desiredState(config).iam;
    expect(grants.length).toBeGreaterThan(10);
    for (const grant of grants) {
      const principal = grant.principal.replaceAll('<PROJECT_NUMBER>', PROJECT_NUMBER);
      const matching = lines.filter(
        (l) =>
          l.startsWith(commandPrefix(grant)) &&
          l.includes(`--member ${principal} `) &&
          (grant.resource.startsWith('function:') || l.includes(`--role ${grant.role} `)),
      );
      expect(matching, `${grant.principal} ${grant.role} on ${grant.resource}`).toHaveLength(1);
      const condition = grant.condition?.expression.replaceAll('<PROJECT_NUMBER>', PROJECT_NUMBER);
      if (condition) expect(matching[0]).toContain(`expression=${condition},`);
      else if (grant.resource === 'project') expect(matching[0]).toContain('--condition None');
    }
  });

  it('deploys every function, syncEntity with a 540 s timeout, then messaging and Firebase', () => {
    const lines = dryRun();
    const deploys = lines.filter((l) => l.startsWith('gcloud functions deploy '));
    expect(deploys.map((l) => l.split(' ')[3])).toEqual([
      FUNCTION_NAMES.tick,
      FUNCTION_NAMES.syncEntity,
      FUNCTION_NAMES.deadLetter,
      FUNCTION_NAMES.deliverNotifications,
      'api',
    ]);
    for (const d of deploys) expect(d).toContain('--gen2 --runtime nodejs20');
    expect(deploys[1]).toContain('--timeout 540');
    expect(deploys[0]).toContain('--no-allow-unauthenticated');
    expect(deploys[2]).toContain('--no-allow-unauthenticated');
    expect(lines).toContain(
      `npx tsx infra/cli.ts apply --project ${PROJECT} --region europe-west1 --functions-base-url https://europe-west1-${PROJECT}.cloudfunctions.net --push-sa ws-sync-push@${PROJECT}.iam.gserviceaccount.com --env prod `,
    );
    expect(lines).toContain(
      `npx firebase deploy --config .firebase-deploy.json --only firestore:rules,firestore:indexes,hosting --project ${PROJECT} --non-interactive `,
    );
  });

  it('deploys one entry point per function, which the package main loads by FUNCTION_TARGET', () => {
    const deploys = dryRun().filter((l) => l.startsWith('gcloud functions deploy '));
    const names = deploys.map((l) => l.split(' ')[3]);
    expect([...names].sort()).toEqual(Object.keys(ENTRY_POINTS).sort());
    for (const [i, d] of deploys.entries()) expect(d).toContain(`--entry-point ${names[i]} `);
    // The runtime imports "main" from the deployed source; main.ts is compiled there by `npm run build`.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      main: string;
    };
    expect(pkg.main).toBe('dist/functions/src/main.js');
    expect(existsSync(new URL('../../functions/src/main.ts', import.meta.url))).toBe(true);
  });

  it('runs only the requested steps and rejects unknown ones', () => {
    const lines = dryRun('--only', 'functions,firebase');
    expect(lines.filter((l) => l.startsWith('# step:'))).toEqual(['# step: functions', '# step: firebase']);
    expect(() => dryRun('--only', 'everything')).toThrow();
  });
});

describe('desired state and config', () => {
  it('derives push endpoints, OIDC audience and labels for every subscription', () => {
    const state = desiredState(config);
    expect(state.topics.map((t) => t.name)).toEqual(Object.values(TOPICS));
    for (const def of SUBSCRIPTIONS) {
      const sub = state.subscriptions.find((s) => s.name === def.name)!;
      const url = def.pushTo
        ? `https://europe-west1-${PROJECT}.cloudfunctions.net/${FUNCTION_NAMES[def.pushTo]}`
        : null;
      expect(sub.push?.endpoint ?? null).toBe(url);
      expect(sub.push?.audience ?? null).toBe(url);
      expect(sub.labels).toEqual({ app: 'workspace-sync', env: 'prod' });
    }
    expect(Buffer.from(state.jobs[0]!.pubsubTarget!.dataBase64, 'base64').toString()).toBe(
      '{"kind":"tick","job":"ws-sync-tick"}',
    );
  });

  it('documents the secret naming scheme the service actually uses', () => {
    expect(SECRET_SCHEME.example).toBe(secretIdForTenant('acme-school', 'google'));
    expect(SECRET_SCHEME.labels.app).toBe('workspace-sync');
  });

  it('rejects an invalid configuration with every problem named', () => {
    expect(() =>
      parseInfraConfig({
        projectId: 'X',
        region: 'eu',
        functionsBaseUrl: 'ftp://x',
        pushServiceAccount: 'nope',
        schedulerTimeZone: 'Mars/Base',
      }),
    ).toThrow(InfraConfigError);
    try {
      parseInfraConfig({
        projectId: 'X',
        region: 'eu',
        functionsBaseUrl: 'ftp://x',
        pushServiceAccount: 'nope',
        schedulerTimeZone: 'Mars/Base',
      });
    } catch (err) {
      for (const field of [
        'projectId',
        'region',
        'functionsBaseUrl',
        'pushServiceAccount',
        'schedulerTimeZone',
      ]) {
        expect((err as Error).message).toContain(field);
      }
    }
  });
});

describe('infra/firestore.indexes.json', () => {
  it('is valid JSON in the Firebase format with the indexes the service queries need', () => {
    const json = JSON.parse(
      readFileSync(new URL('../../infra/firestore.indexes.json', import.meta.url), 'utf8'),
    ) as {
      indexes: Array<{
        collectionGroup: string;
        queryScope: string;
        fields: Array<{ fieldPath: string; order: string }>;
      }>;
      fieldOverrides: unknown[];
    };
    expect(json.indexes).toContainEqual({
      collectionGroup: 'runs',
      queryScope: 'COLLECTION',
      fields: [
        { fieldPath: 'mappingId', order: 'ASCENDING' },
        { fieldPath: 'startedAt', order: 'DESCENDING' },
      ],
    });
    expect(json.indexes).toContainEqual({
      collectionGroup: 'records',
      queryScope: 'COLLECTION',
      fields: [
        { fieldPath: '_sync.status', order: 'ASCENDING' },
        { fieldPath: '_sync.removedAt', order: 'DESCENDING' },
      ],
    });
    expect(Array.isArray(json.fieldOverrides)).toBe(true);
    // The tick's fan-out queries every tenant's enabled mappings as one collection group (store/mappings.ts).
    expect(json.fieldOverrides).toContainEqual({
      collectionGroup: 'mappings',
      fieldPath: 'enabled',
      indexes: [
        { order: 'ASCENDING', queryScope: 'COLLECTION' },
        { order: 'ASCENDING', queryScope: 'COLLECTION_GROUP' },
      ],
    });
  });
});
