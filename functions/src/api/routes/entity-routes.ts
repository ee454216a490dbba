import {
  FIELD_LABELS,
  ENTITIES,
  ENTITY_KINDS,
  REQUIRED_SCOPES,
  SOURCE_ENTITIES,
  SOURCE_KINDS,
  type EntityDescriptor,
  type SourceKind,
} from '../../../../shared/entities.js';
import { WRITABLE_CHROMEOS_FIELDS } from '../../../../shared/mapping.js';
import { json, type ApiResult } from '../http.js';
import type { RouteContext } from '../route-context.js';
import type { Route } from '../router.js';

/**
 * An entity as the console sees it: Chrome OS devices also name the fields a write-back may send to Google, and
 * every entity carries the labels its identifiers and fields are shown by (shared/entities.ts FIELD_LABELS).
 */
const withWritable = (e: EntityDescriptor, source: SourceKind) => ({
  ...(source === 'google' && e.kind === 'chromeos' ? { ...e, writable: WRITABLE_CHROMEOS_FIELDS } : e),
  labels: FIELD_LABELS[source][e.kind] ?? {},
});

/** Each source's entities in the one order the console lists them. */
const bySource = Object.fromEntries(
  SOURCE_KINDS.map((s) => [
    s,
    ENTITY_KINDS.flatMap((k) => SOURCE_ENTITIES[s][k] ?? []).map((e) => withWritable(e, s)),
  ]),
);

/**
 * GET /api/entities: what the console's field pickers offer. `entities` are Google Workspace's (as before);
 * `sources` has every source's, so an editor can show an Entra mapping with Entra's fields and identifiers.
 */
async function entities(): Promise<ApiResult> {
  return json(200, {
    entities: ENTITY_KINDS.map((k) => withWritable(ENTITIES[k], 'google')),
    sources: bySource,
    requiredScopes: REQUIRED_SCOPES,
  });
}

export const entityRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: '/api/entities',
    access: { kind: 'signedIn' },
    handle: entities,
    doc: {
      summary:
        "What can be mapped: each source's entities, their fields and identifiers, and the scopes needed",
      responses: {
        200: { description: '`entities` (Google Workspace), `sources` (every source), `requiredScopes`.' },
      },
    },
  },
];
