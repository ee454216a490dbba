// "Where it goes": users can become login users, merged people or collection records; every other entity
// becomes records in an object.
import { card, entityLabel, h } from '../dom.js';
import { bindTo, choices, field, textInput } from './controls.js';
import { peopleIdentifier, setValue } from './form-state.js';
import { itemText } from './picker-lists.js';

const USER_TARGETS = [
  ['loginUsers', 'Login users with a role', 'People who can sign in to your product'],
  ['people', 'Merged people', 'One record per person, joined by email with other directories'],
  ['collection', 'Collection records', 'Records in an object, e.g. students'],
];
/** Only Google Workspace users can become login users (shared/mapping.ts). */
const targetsOf = (source) =>
  source === 'google' ? USER_TARGETS : USER_TARGETS.filter(([k]) => k !== 'loginUsers');

/**
 * The object id: typed, with the product's objects offered as suggestions when it lists them (an object the
 * product has not listed yet may still be typed).
 */
function objectIdField(draft, objects) {
  const offered = objects?.length ? objects : null;
  const wrap = field(
    'target.objectId',
    'Object ID',
    textInput(draft, 'objectId', 'objectId', offered ? { list: 'product-objects' } : {}),
    offered
      ? `Choose one of your product’s objects (${offered.map((o) => o.id).join(', ')}) or type another: lowercase letters, digits and dashes.`
      : 'The object in your product that receives the records: lowercase letters, digits and dashes, e.g. chromebooks.',
  );
  if (offered)
    wrap.append(
      h(
        'datalist',
        { id: 'product-objects' },
        offered.map((o) => h('option', { value: o.id }, itemText(o))),
      ),
    );
  return wrap;
}

/**
 * The role login users get: chosen from the roles the product lists (a stored role it no longer lists stays
 * selectable, flagged), typed while it lists none.
 */
function roleField(draft, roles) {
  if (!roles?.length)
    return field(
      'target.role',
      'Role',
      textInput(draft, 'role', 'role'),
      'The role these people get in your product, e.g. user or technician. Your product has not listed its roles for this tenant yet.',
    );
  // A new mapping starts from the product's first role; a stored one keeps its own.
  if (!draft.roleFromSaved && !roles.some((r) => r.id === draft.role)) draft.role = roles[0].id;
  const listed = roles.some((r) => r.id === draft.role);
  return field(
    'target.role',
    'Role',
    h(
      'select',
      { id: 'role', onchange: bindTo(draft, 'role') },
      roles.map((r) => h('option', { value: r.id, selected: r.id === draft.role }, itemText(r))),
      !listed &&
        draft.role &&
        h('option', { value: draft.role, selected: true }, `${draft.role} (not offered by your product)`),
    ),
    'The role these people get in your product, from the roles it offers. Each org unit can have its own login-users mapping and role; a user gets the role of the most specific org unit they are in.',
  );
}

/** @param {import('./controls.js').SectionContext} ctx */
export function targetSection({ draft, entity, redraw, lists }) {
  if (draft.entity !== 'users')
    return card('Where it goes', [
      h(
        'p',
        { class: 'muted' },
        `${entity.label ?? entityLabel(draft.entity)} become records in an object, keyed by the unique identifier.`,
      ),
      objectIdField(draft, lists.objects),
    ]);
  const pickTarget = (kind) => {
    setValue(draft, 'targetKind', kind);
    // People of every source are joined by email: that is their identifier.
    if (kind === 'people') setValue(draft, 'identifier', peopleIdentifier(draft.source));
    redraw(`kind-${kind}`);
  };
  return card('Where it goes', [
    choices('target', 'Sync users as', 'kind', targetsOf(draft.source), draft.targetKind, pickTarget),
    draft.targetKind === 'loginUsers'
      ? roleField(draft, lists.roles)
      : draft.targetKind === 'people'
        ? h(
            'p',
            { class: 'hint' },
            `Records go to the people object, identified by ${peopleIdentifier(draft.source)}; email and active are set by the merge.`,
          )
        : objectIdField(draft, lists.objects),
  ]);
}
