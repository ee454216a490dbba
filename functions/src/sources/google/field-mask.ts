import { ENTITIES, type EntityKind } from '../../../../shared/entities.js';

/** The groups field the sync fills from members.list. */
export const GROUP_MEMBERS_FIELD = 'members';

/**
 * Builds the `fields` partial-response selector for a list call: only what the mapping reads plus what the
 * sync itself needs. Google's performance guide recommends it; at 100k users it is most of the bytes.
 */
export function listFieldsMask(entity: EntityKind, sourcePaths: readonly string[]): string {
  const descriptor = ENTITIES[entity];
  const wanted = new Set<string>();
  for (const p of [...descriptor.systemFields, ...sourcePaths]) {
    // A group's member list is not a field of the group resource: the sync reads it with members.list.
    if (entity === 'groups' && p === GROUP_MEMBERS_FIELD) continue;
    wanted.add(p.replace(/\./g, '/'));
  }
  // A parent selector already covers its children: `customSchemas` makes `customSchemas/X/y` redundant.
  const selectors = [...wanted]
    .sort()
    .filter((s, _, all) => !all.some((o) => o !== s && s.startsWith(`${o}/`)));
  const items = `${descriptor.listKey}(${selectors.join(',')})`;
  return descriptor.maxPageSize === null ? items : `nextPageToken,${items}`;
}

/** Custom schema names the mapping reads, for users.list `projection=custom&customFieldMask=…`. */
export function customSchemaNames(sourcePaths: readonly string[]): string[] {
  const names = new Set<string>();
  for (const p of sourcePaths) {
    const m = /^customSchemas\.([^.]+)/.exec(p);
    if (m?.[1]) names.add(m[1]);
  }
  return [...names].sort();
}
