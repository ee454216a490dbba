// "What to sync": the mapping's name, its source (shown, never changed here), the entity and its unique identifier.
import { card, entityLabel, h, sourceLabel } from '../dom.js';
import { bindTo, choices, field, labelOf, textInput } from './controls.js';
import { entityDescription, findEntity, selectEntity } from './form-state.js';

/** @param {import('./controls.js').SectionContext} ctx */
export function basicsSection({ draft, entities, entity, redraw }) {
  const pickEntity = (kind) => {
    selectEntity(draft, findEntity(entities, kind));
    redraw(`entity-${kind}`);
  };
  return card('What to sync', [
    field('name', 'Name', textInput(draft, 'name', 'name', { placeholder: 'e.g. Student Chromebooks' })),
    // Read-only: a mapping's source is where its records come from (an Entra mapping is made by connecting Entra).
    field(
      'source',
      'Source',
      h('input', { id: 'source', readonly: true, value: sourceLabel(draft.source) }),
      draft.source === 'google' ? undefined : `This mapping reads from ${sourceLabel(draft.source)}.`,
    ),
    choices(
      'entity',
      `${sourceLabel(draft.source)} entity`,
      'entity',
      entities.map((e) => [e.kind, e.label ?? entityLabel(e.kind), entityDescription(e.kind)]),
      draft.entity,
      pickEntity,
    ),
    field(
      'identifier',
      'Unique identifier',
      h(
        'select',
        { id: 'identifier', onchange: bindTo(draft, 'identifier') },
        // Shown by the product's names (Email, Serial Number, Asset ID); the mapping stores the API's.
        entity.identifiers.map((x) =>
          h('option', { value: x, selected: x === draft.identifier, title: x }, labelOf(entity, x)),
        ),
      ),
      'The field that identifies each record; it must be unique, like a serial number.',
    ),
  ]);
}
