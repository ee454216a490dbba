import { ENTITIES, ENTITY_KINDS, REQUIRED_SCOPES } from '../../../../shared/entities.js';
import { json, type ApiResult } from '../http.js';
import type { RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/** GET /api/entities: what the console's field pickers offer. */
async function entities(): Promise<ApiResult> {
  return json(200, { entities: ENTITY_KINDS.map((k) => ENTITIES[k]), requiredScopes: REQUIRED_SCOPES });
}

export const entityRoutes: Array<Route<RouteContext>> = [
  { method: 'GET', pattern: '/api/entities', access: { kind: 'signedIn' }, handle: entities },
];
