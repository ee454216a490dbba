import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY_POINTS } from '../../functions/src/entries/entry-points.js';
import { readHostingRewrites, backendOf } from '../../scripts/static-server.js';

/**
 * The plan `deploy.sh --dry-run` prints is the deployment: one consistent stack whose hosted console reaches the
 * api it deploys. The commands are only printed (PATH holds no gcloud or firebase here), so this runs anywhere.
 */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEPLOY_SH = join(REPO_ROOT, 'infra/deploy.sh');
const PROJECT = 'demo-plan';
const REGION = 'europe-west1';

function plan(...extra: string[]): { steps: string[]; commands: Array<{ step: string; argv: string[] }> } {
  const out = execFileSync(
    'bash',
    [DEPLOY_SH, '--dry-run', '--project', PROJECT, '--region', REGION, '--project-number', '42', ...extra],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const steps: string[] = [];
  const commands: Array<{ step: string; argv: string[] }> = [];
  for (const line of out.split('\n').filter(Boolean)) {
    const step = /^# step: (.+)$/.exec(line);
    if (step) steps.push(step[1]!);
    // printf %q separates words by unescaped spaces and escapes the rest.
    else
      commands.push({
        step: steps.at(-1) ?? '',
        argv: line
          .trim()
          .split(/(?<!\\) /)
          .map((w) => w.replace(/\\(.)/g, '$1')),
      });
  }
  return { steps, commands };
}

const flag = (argv: string[], name: string) => argv[argv.indexOf(name) + 1];
const tmp = mkdtempSync(join(tmpdir(), 'deploy-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('deploy.sh --dry-run', () => {
  const { steps, commands } = plan();

  it('prints every step in order and nothing but commands it would run', () => {
    expect(steps).toEqual([
      'apis',
      'service-accounts',
      'project-iam',
      'functions',
      'invokers',
      'messaging',
      'resource-iam',
      'firebase',
    ]);
    for (const { argv } of commands) expect(['gcloud', 'npx', 'rm'], argv.join(' ')).toContain(argv[0]);
  });

  it('deploys every function once, gen2, in the one region', () => {
    const deploys = commands.filter((c) => c.argv.slice(0, 3).join(' ') === 'gcloud functions deploy');
    expect(deploys.map((d) => d.argv[3]).sort()).toEqual(Object.keys(ENTRY_POINTS).sort());
    for (const { argv, step } of deploys) {
      expect(step).toBe('functions');
      expect(argv).toContain('--gen2');
      expect(flag(argv, '--region')).toBe(REGION);
      expect(flag(argv, '--project')).toBe(PROJECT);
    }
  });

  it('makes every function the hosting rewrites name public, with the hosting origin as its console and redirect origin', () => {
    const names = new Set(readHostingRewrites().map(backendOf));
    expect([...names]).toEqual(['api']);
    for (const name of names) {
      const deploy = commands.find((c) => c.argv[2] === 'deploy' && c.argv[3] === name)!;
      expect(deploy.argv).toContain('--allow-unauthenticated');
      expect(deploy.argv).toContain('--trigger-http');
      const env = flag(deploy.argv, '--set-env-vars')!.split(',');
      expect(env).toEqual(
        expect.arrayContaining([
          `GOOGLE_CLOUD_PROJECT=${PROJECT}`,
          `CONSOLE_ORIGIN=https://${PROJECT}.web.app`,
          `OAUTH_REDIRECT_URI=https://${PROJECT}.web.app/oauth/callback`,
        ]),
      );
    }
  });

  it('deploys hosting after the functions, from a firebase.json whose rewrites point at the deployed region', () => {
    const firebase = commands.filter((c) => c.step === 'firebase').map((c) => c.argv);
    expect(firebase.map((a) => a.slice(0, 2).join(' '))).toEqual(['npx tsx', 'npx firebase', 'rm -f']);
    const [generate, deploy, cleanup] = firebase as [string[], string[], string[]];
    const configFile = flag(generate, '--out')!;
    expect(flag(deploy, '--config')).toBe(configFile);
    expect(flag(deploy, '--only')).toBe('firestore:rules,firestore:indexes,hosting');
    expect(cleanup[2]).toBe(configFile);

    // Run the printed generator (into a scratch file) and read what would be deployed.
    const out = join(tmp, 'firebase.json');
    const argv = generate.slice(1).map((a) => (a === configFile ? out : a));
    execFileSync('npx', argv, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const deployed = JSON.parse(readFileSync(out, 'utf8')) as {
      hosting: { rewrites: Array<{ source: string; function: { functionId: string; region: string } }> };
    };
    expect(
      deployed.hosting.rewrites.map((r) => [r.source, r.function.functionId, r.function.region]),
    ).toEqual([
      ['/api/**', 'api', REGION],
      ['/oauth/**', 'api', REGION],
    ]);
  });

  it('takes the console origin from --console-origin when Hosting serves a custom domain', () => {
    const custom = plan('--only', 'functions', '--console-origin', 'https://sync.example.org');
    expect(custom.steps).toEqual(['functions']);
    const api = custom.commands.find((c) => c.argv[3] === 'api')!;
    expect(flag(api.argv, '--set-env-vars')).toContain(
      'CONSOLE_ORIGIN=https://sync.example.org,OAUTH_REDIRECT_URI=https://sync.example.org/oauth/callback',
    );
  });
});
