// "What to sync": the mapping's name, the Google Workspace entity and its unique identifier.
import { card, entityLabel, h } from '../dom.js';
import { bindTo, choices, field, textInput } from './controls.js';
import { entityDescription, findEntity, selectEntity } from './form-state.js';

/** @param {import('./controls.js').SectionContext} ctx */
export function basicsSection({ draft, entities, entity, redraw }) {
  const pickEntity = (kind) => {
    selectEntity(draft, findEntity(entities, kind));
    redraw(`entity-${kind}`);
  };
  return card('What to sync', [
    field('name', 'Name', textInput(draft, 'name', 'name', { placeholder: 'e.g. Student Chromebooks' })),
    choices(
      'entity',
      'Google Workspace entity',
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
        entity.identifiers.map((x) => h('option', { selected: x === draft.identifier }, x)),
      ),
      'The field that identifies each record; it must be unique, like a serial number.',
    ),
  ]);
}
