import type { admin_directory_v1 } from '@googleapis/admin';
import type { OAuth2Client } from 'google-auth-library';
import type { RuntimeConfig } from '../../platform/config.js';

export type { admin_directory_v1 };

/**
 * The Directory API client, from the per-API package: the whole `googleapis` bundle costs a cold instance over
 * a second and ~100 MiB to load. Even the per-API package is loaded only when a Directory call is made (the
 * first one pays ~0.1-0.3 s once per instance), so entry points and routes that never call Google do not carry
 * it; test/foundation/import-graph.test.ts guards that. `rootUrl` points it at the simulator locally.
 *
 * The OAuth client comes from our google-auth-library; @googleapis/admin (32.x: its 37.x needs Node 22, we run
 * on Node 20) pins another copy through googleapis-common, whose
 * OAuth2Client type differs only in private members. The request path is duck-typed (getRequestHeaders /
 * request / getUniverseDomain), which both copies provide, hence the cast.
 */
export async function directoryClient(
  config: RuntimeConfig,
  auth: OAuth2Client,
): Promise<admin_directory_v1.Admin> {
  const { admin } = await import('@googleapis/admin');
  return admin({
    version: 'directory_v1',
    auth: auth as unknown as admin_directory_v1.Options['auth'],
    rootUrl: config.google.apiRoot,
  });
}

/** A Directory client made on first use, for classes whose constructors cannot wait. */
export function lazyDirectoryClient(
  config: RuntimeConfig,
  auth: OAuth2Client,
): () => Promise<admin_directory_v1.Admin> {
  let client: Promise<admin_directory_v1.Admin> | null = null;
  return () => (client ??= directoryClient(config, auth));
}
