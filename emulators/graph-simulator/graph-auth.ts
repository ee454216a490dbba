import type { IncomingHttpHeaders } from 'node:http';
import type { GraphDirectory, IssuedToken, Tenant } from './graph-directory.js';
import { graphErrors } from './graph-error.js';

/** Resolves the bearer token of a Graph request to its tenant, with Graph's 401 messages for each failure. */
export function authenticate(
  directory: GraphDirectory,
  headers: IncomingHttpHeaders,
): { tenant: Tenant; issued: IssuedToken } {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  const token = match?.[1];
  if (!token) throw graphErrors.emptyToken();
  if (!token.includes('.')) throw graphErrors.malformedToken();
  const issued = directory.tokens.get(token);
  if (!issued) throw graphErrors.invalidToken();
  if (issued.revoked) throw graphErrors.consentRevoked();
  if (issued.expiresAt <= Date.now()) throw graphErrors.expiredToken();
  const tenant = directory.tenants.get(issued.tenantId);
  if (!tenant) throw graphErrors.invalidToken();
  return { tenant, issued };
}
