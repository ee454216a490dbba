// The mapping editor's working copy, in the shape of the form: where it starts (a stored mapping or an entity's
// preset), the changes the admin makes, and the mapping input body the API takes. No DOM, so every section
// renders from and writes to this one object, and a redraw never loses what was typed.

/**
 * @typedef {{kind: string, label?: string, identifiers: string[], fields: string[], writable?: string[]}} Entity as GET /api/entities lists it (`writable`: fields a write-back may send to Google)
 * @typedef {{source: string, target: string, custom: boolean, direction?: string, appendTemplate?: string}} FieldRow `custom`: a typed custom-schema path, not one from the entity's list
 * @typedef {{
 *   name: string, source: string, entity: string, identifier: string,
 *   targetKind: string, role: string, objectId: string,
 *   fieldRows: FieldRow[],
 *   scoped: boolean, scopePaths: string, includeChildren: boolean,
 *   enabled: boolean, removalThreshold: string,
 *   customized: boolean, roleFromSaved: boolean,
 * }} FormState `scopePaths` one per line; `customized` once the object id or the field map is the admin's own;
 *   `source` is kept as stored (google for a new mapping): the editor never changes where a mapping reads from
 */

/** The identifier that is a person's email in each source (shared/mapping.ts PEOPLE_IDENTIFIER). */
const PEOPLE_IDENTIFIER = { google: 'primaryEmail', entra: 'email' };
export const peopleIdentifier = (source) => PEOPLE_IDENTIFIER[source] ?? 'primaryEmail';

/** Whether an org-unit scope can apply: the entity's objects carry an orgUnitPath (groups, phones do not). */
export const hasOrgUnits = (entity) => entity.kind === 'orgunits' || entity.fields.includes('orgUnitPath');

/** The entities of one source, from GET /api/entities' `sources`. @returns {Entity[]} */
export const entitiesOf = (sources, source) => sources[source ?? 'google'] ?? [];

/** A useful starting point per entity: object id, field map (source:target pairs) and a one-line description. */
const PRESETS = {
  users: {
    objectId: 'users',
    fieldMap: 'primaryEmail:email name.givenName:firstName name.familyName:lastName orgUnitPath:orgUnit',
    description: 'Staff and students in the directory',
  },
  chromeos: {
    objectId: 'chromebooks',
    fieldMap:
      'serialNumber:serialNumber annotatedAssetId:assetTag model:model annotatedUser:assignedUser orgUnitPath:orgUnit',
    description: 'Managed Chromebooks and other Chrome OS devices',
  },
  mobile: {
    objectId: 'mobile-devices',
    fieldMap: 'serialNumber:serialNumber model:model os:os type:type status:status',
    description: 'Managed Android and iOS devices',
  },
  orgunits: {
    objectId: 'org-units',
    fieldMap: 'orgUnitPath:path name:name description:description parentOrgUnitPath:parentPath',
    description: 'The organizational unit tree',
  },
  groups: {
    objectId: 'groups',
    fieldMap: 'email:email name:name description:description directMembersCount:memberCount members:members',
    description: 'Google Groups',
  },
};
const NO_PRESET = { objectId: '', fieldMap: '', description: '' };
const presetOf = (kind) => PRESETS[kind] ?? NO_PRESET;

export const entityDescription = (kind) => presetOf(kind).description;

/** @returns {FieldRow} */
const blankRow = () => ({ source: '', target: '', custom: false });

/** @returns {FieldRow[]} an entity without a preset starts from one blank row for the admin to fill in */
function presetRows(kind) {
  const { fieldMap } = presetOf(kind);
  if (!fieldMap) return [blankRow()];
  return fieldMap.split(' ').map((pair) => {
    const [source = '', target = ''] = pair.split(':');
    return { source, target, custom: false };
  });
}

/** @returns {Entity} an entity the list does not have yet still renders, with nothing to choose from */
export const findEntity = (entities, kind) =>
  entities.find((e) => e.kind === kind) ?? { kind, identifiers: [], fields: [] };

/**
 * @param {any} saved the stored mapping, or null for a new one
 * @param {Entity[]} entities the entities of the saved mapping's source (Google Workspace's for a new one)
 * @returns {FormState} the stored mapping's values, or a new users mapping from its preset
 */
export function initialFormState(saved, entities) {
  return {
    name: saved?.name ?? '',
    source: saved?.source ?? 'google',
    entity: saved?.entity ?? 'users',
    identifier: saved?.identifier ?? findEntity(entities, 'users').identifiers[0],
    targetKind: saved?.target?.kind ?? 'collection',
    role: saved?.target?.role ?? 'user',
    objectId: saved?.target?.objectId ?? presetOf('users').objectId,
    fieldRows: saved
      ? saved.fieldMap.map((f) => ({
          ...f,
          custom: !findEntity(entities, saved.entity).fields.includes(f.source),
        }))
      : presetRows('users'),
    scoped: !!saved?.orgUnitScope,
    scopePaths: (saved?.orgUnitScope?.paths ?? []).join('\n'),
    includeChildren: saved?.orgUnitScope?.includeChildren ?? true,
    enabled: saved?.enabled ?? true,
    removalThreshold: String(saved?.removalThresholdPercent ?? 10),
    customized: !!saved,
    // A stored role stays as it is even when the product no longer lists it (the role picker flags it).
    roleFromSaved: !!saved?.target?.role,
  };
}

/** The org unit paths of the scope, one per line in `scopePaths`. @param {FormState} draft */
export const scopePathList = (draft) =>
  draft.scopePaths
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/** Adds or removes one org unit path of the scope (the org unit picker). @param {FormState} draft */
export function toggleScopePath(draft, path, on) {
  const paths = scopePathList(draft).filter((p) => p !== path);
  if (on) paths.push(path);
  draft.scopePaths = paths.join('\n');
}

/** A plain value from a form control. @param {FormState} draft @param {keyof FormState} key */
export function setValue(draft, key, value) {
  draft[key] = value;
  if (key === 'objectId') draft.customized = true;
}

/**
 * Switches to another entity: its default identifier, and only users can be login users or people. Until the
 * admin has made the object id and fields their own, they follow the entity's preset; after that they stay,
 * and rows whose source the new entity does not list become custom fields.
 * @param {FormState} draft @param {Entity} entity
 */
export function selectEntity(draft, entity) {
  Object.assign(draft, { entity: entity.kind, identifier: entity.identifiers[0] });
  if (entity.kind !== 'users') draft.targetKind = 'collection';
  if (draft.targetKind === 'people') draft.identifier = peopleIdentifier(draft.source);
  // The API refuses a scope the entity cannot have; the form offers none for it.
  if (!hasOrgUnits(entity)) draft.scoped = false;
  if (!draft.customized)
    Object.assign(draft, { objectId: presetOf(entity.kind).objectId, fieldRows: presetRows(entity.kind) });
  else draft.fieldRows.forEach((r) => (r.custom = !!r.source && !entity.fields.includes(r.source)));
}

/** @param {FormState} draft */
export function addFieldRow(draft) {
  draft.fieldRows.push(blankRow());
  draft.customized = true;
}

/** @param {FormState} draft @param {number} index */
export function removeFieldRow(draft, index) {
  draft.fieldRows.splice(index, 1);
  draft.customized = true;
}

/**
 * A source from the entity's list (or '' for none). An empty target gets a suggested name, the source's last
 * segment: name.givenName -> givenName.
 * @param {FormState} draft @param {FieldRow} row @param {string} source
 */
export function pickListedSource(draft, row, source) {
  draft.customized = true;
  row.custom = false;
  // Write-back belongs to the field it was turned on for.
  if (row.source !== source) {
    delete row.direction;
    delete row.appendTemplate;
  }
  row.source = source;
  if (!row.target) row.target = source.split('.').at(-1) ?? '';
}

/** A custom schema path typed by the admin. @param {FormState} draft @param {FieldRow} row @param {string} path */
export function pickCustomSource(draft, row, path) {
  draft.customized = true;
  row.custom = true;
  row.source = path;
}

/** Turns write-back to Google on or off for a row (the API refuses it on fields Google does not let us write). */
export function setWriteBack(draft, row, on) {
  draft.customized = true;
  if (on) row.direction = 'toGoogle';
  else {
    delete row.direction;
    delete row.appendTemplate;
  }
}

/** @param {FieldRow} row @param {string} path */
export function setCustomSource(row, path) {
  row.source = path;
}

/** @param {FormState} draft @param {FieldRow} row @param {string} name */
export function setRowTarget(draft, row, name) {
  row.target = name;
  draft.customized = true;
}

/** The mapping input body of POST/PUT /mappings and of the preview. @param {FormState} draft */
export function mappingBody(draft) {
  return {
    name: draft.name,
    source: draft.source,
    entity: draft.entity,
    identifier: draft.identifier,
    target:
      draft.targetKind === 'loginUsers'
        ? { kind: 'loginUsers', role: draft.role }
        : draft.targetKind === 'people'
          ? { kind: 'people' }
          : { kind: 'collection', objectId: draft.objectId },
    // `none` and a notes template are set through the API; the editor keeps them as they were.
    fieldMap: draft.fieldRows.map((r) => ({
      source: r.source,
      target: r.target,
      ...(r.direction ? { direction: r.direction } : {}),
      ...(r.appendTemplate ? { appendTemplate: r.appendTemplate } : {}),
    })),
    orgUnitScope: draft.scoped
      ? { paths: scopePathList(draft), includeChildren: draft.includeChildren }
      : null,
    enabled: draft.enabled,
    removalThresholdPercent: draft.removalThreshold.trim() === '' ? null : Number(draft.removalThreshold),
  };
}
