import { z } from 'zod';
import { EntraError } from './entra-error.js';

export const DEFAULT_AUTHORITY_BASE_URL = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH_BASE_URL = 'https://graph.microsoft.com';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The client secret travels to the authority and tokens to Graph: plaintext HTTP only for a local simulator. */
const baseUrlSchema = z
  .url()
  .refine((value) => {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname));
  }, 'must be https (http only for localhost)')
  .refine((value) => {
    const url = new URL(value);
    return url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  }, 'must be a plain base URL without query, fragment or credentials')
  .transform((value) => value.replace(/\/+$/, ''));

const tenantIdSchema = z
  .string()
  .regex(
    /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/i,
    'must be the directory (tenant) GUID or a verified domain',
  );

export const entraConnectionSchema = z.strictObject({
  tenantId: tenantIdSchema,
  clientId: z.guid('must be the application (client) GUID'),
  clientSecret: z.string().min(1),
  authorityBaseUrl: baseUrlSchema.default(DEFAULT_AUTHORITY_BASE_URL),
  graphBaseUrl: baseUrlSchema.default(DEFAULT_GRAPH_BASE_URL),
});

/** Where and as whom one tenant's Entra directory is read. Base URLs point at the Graph simulator locally. */
export type EntraConnection = z.output<typeof entraConnectionSchema>;
export type EntraConnectionInput = z.input<typeof entraConnectionSchema>;

/** Validates a connection; the error lists paths and rules only, never the submitted values. */
export function parseEntraConnection(input: unknown): EntraConnection {
  const result = entraConnectionSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new EntraError('INVALID_CONFIGURATION', `Invalid Entra connection: ${problems.join('; ')}`);
  }
  return result.data;
}
