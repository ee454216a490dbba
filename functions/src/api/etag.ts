import { ApiError } from './api-error.js';
import type { ApiRequest } from './http.js';

/** Mappings carry a version; it travels as a strong ETag and comes back in If-Match. */
export const etagOf = (version: number) => `"${version}"`;

/** The version the client last saw. Required: an update without one could overwrite someone else's change. */
export function requiredIfMatch(req: ApiRequest): number {
  const raw = req.header('if-match');
  if (raw === undefined) {
    throw new ApiError(
      'precondition_required',
      'send If-Match with the ETag of the version you edited (from the last GET)',
    );
  }
  const m = /^"(\d{1,9})"$/.exec(raw.trim());
  if (!m?.[1])
    throw new ApiError('invalid_argument', 'If-Match must be the ETag of a mapping version, e.g. "3"', [
      { path: 'If-Match', message: 'expected "<version>"' },
    ]);
  return Number(m[1]);
}

export function staleVersion(current: number): ApiError {
  return new ApiError(
    'precondition_failed',
    `the mapping was changed by someone else (now version ${current}); reload it and apply your change again`,
    [],
    { etag: etagOf(current) },
    { currentVersion: current },
  );
}
