import { z } from 'zod';
import { isValidTimeZone } from './cron.js';

// Project ids are 6-30 chars; legacy domain-scoped ones carry an `example.com:` prefix.
const PROJECT_ID = /^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]+-[a-z]+\d+$/;

export const infraConfigSchema = z.strictObject({
  projectId: z.string().trim().regex(PROJECT_ID, 'must be a Google Cloud project id'),
  region: z.string().trim().regex(REGION, 'must be a Cloud region such as europe-west1'),
  /** Function URLs are `<functionsBaseUrl>/<functionName>`, e.g. https://europe-west1-PROJECT.cloudfunctions.net */
  functionsBaseUrl: z.url({ protocol: /^https?$/ }).transform((url) => url.replace(/\/+$/, '')),
  /** Identity Pub/Sub signs push requests as (OIDC); null sends unauthenticated pushes (local stack only). */
  pushServiceAccount: z.email().nullable(),
  /** Overrides the time zone of every scheduler job, e.g. to run the passes in the customers' local time. */
  schedulerTimeZone: z
    .string()
    .trim()
    .refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin')
    .optional(),
  /** Environment label (prod, staging, ...): resources are labelled with it, and only their own env is pruned. */
  env: z
    .string()
    .trim()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, 'lowercase letters, digits and dashes')
    .default('prod'),
});

export type InfraConfig = z.infer<typeof infraConfigSchema>;
export type InfraConfigInput = z.input<typeof infraConfigSchema>;

export class InfraConfigError extends Error {}

export function parseInfraConfig(input: unknown): InfraConfig {
  const parsed = infraConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`,
    );
    throw new InfraConfigError(`invalid infra configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}
