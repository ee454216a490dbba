// "Where it goes": users can become login users, merged people or collection records; every other entity
// becomes records in an object.
import { card, entityLabel, h } from '../dom.js';
import { choices, field, textInput } from './controls.js';
import { peopleIdentifier, setValue } from './form-state.js';

const USER_TARGETS = [
  ['loginUsers', 'Login users with a role', 'People who can sign in to your product'],
  ['people', 'Merged people', 'One record per person, joined by email with other directories'],
  ['collection', 'Collection records', 'Records in an object, e.g. students'],
];
/** Only Google Workspace users can become login users (shared/mapping.ts). */
const targetsOf = (source) =>
  source === 'google' ? USER_TARGETS : USER_TARGETS.filter(([k]) => k !== 'loginUsers');

const objectIdField = (draft) =>
  field(
    'target.objectId',
    'Object ID',
    textInput(draft, 'objectId', 'objectId'),
    'The object in your product that receives the records: lowercase letters, digits and dashes, e.g. chromebooks.',
  );

/** @param {import('./controls.js').SectionContext} ctx */
export function targetSection({ draft, entity, redraw }) {
  if (draft.entity !== 'users')
    return card('Where it goes', [
      h(
        'p',
        { class: 'muted' },
        `${entity.label ?? entityLabel(draft.entity)} become records in an object, keyed by the unique identifier.`,
      ),
      objectIdField(draft),
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
      ? field(
          'target.role',
          'Role',
          textInput(draft, 'role', 'role'),
          'The role these people get in your product, e.g. user or technician.',
        )
      : draft.targetKind === 'people'
        ? h(
            'p',
            { class: 'hint' },
            `Records go to the people object, identified by ${peopleIdentifier(draft.source)}; email and active are set by the merge.`,
          )
        : objectIdField(draft),
  ]);
}
