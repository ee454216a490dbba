import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';

/**
 * The firebase.json `deploy.sh` deploys: the checked-in one, with every hosting rewrite to a function pointed at
 * the region the functions are deployed to. firebase.json names a region (Hosting needs one) that suits the
 * local stack; deriving the deployed copy from `--region` makes a console whose /api and /oauth calls go to a
 * region with no api function impossible. A rewrite to a function deploy.sh does not deploy as a public HTTP
 * function is refused for the same reason.
 */
const rewriteSchema = z
  .object({
    source: z.string().optional(),
    function: z.object({ functionId: z.string(), region: z.string().optional() }).loose().optional(),
    run: z.object({ serviceId: z.string(), region: z.string().optional() }).loose().optional(),
  })
  .loose();
const firebaseJsonSchema = z
  .object({ hosting: z.object({ rewrites: z.array(rewriteSchema).default([]) }).loose() })
  .loose();

export class HostingConfigError extends Error {}

export function hostingConfigFor(
  firebaseJson: unknown,
  target: { region: string; httpFunctions: readonly string[] },
): Record<string, unknown> {
  const parsed = firebaseJsonSchema.parse(firebaseJson);
  const problems: string[] = [];
  const rewrites = parsed.hosting.rewrites.map((r) => {
    const fn = r.function?.functionId ?? r.run?.serviceId;
    if (fn === undefined) return r;
    if (!target.httpFunctions.includes(fn)) {
      problems.push(
        `hosting rewrite ${r.source ?? '?'} names ${fn}, which is not a deployed public HTTP function`,
      );
      return r;
    }
    return r.function
      ? { ...r, function: { ...r.function, region: target.region } }
      : { ...r, run: { ...r.run!, region: target.region } };
  });
  if (problems.length > 0) throw new HostingConfigError(problems.join('\n'));
  return { ...parsed, hosting: { ...parsed.hosting, rewrites } };
}

const isMain =
  process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({
    options: {
      region: { type: 'string' },
      functions: { type: 'string' },
      in: { type: 'string', default: 'firebase.json' },
      out: { type: 'string' },
    },
  });
  if (!values.region || !values.functions || !values.out) {
    console.error(
      'Usage: tsx infra/hosting-config.ts --region R --functions api[,fn] --out FILE [--in firebase.json]',
    );
    process.exit(2);
  }
  try {
    const config = hostingConfigFor(JSON.parse(readFileSync(values.in, 'utf8')), {
      region: values.region,
      httpFunctions: values.functions.split(','),
    });
    writeFileSync(values.out, `${JSON.stringify(config, null, 2)}\n`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  }
}
