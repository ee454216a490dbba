// "Scope and safety": the optional org-unit scope, the removal threshold and whether scheduled syncs run it.
import { card, h } from '../dom.js';
import { bindTo, check, field, textInput } from './controls.js';
import { hasOrgUnits, setValue } from './form-state.js';

/** @param {import('./controls.js').SectionContext} ctx */
export function scopeAndSafetySection({ draft, entity, redraw }) {
  const toggleScope = () => {
    setValue(draft, 'scoped', !draft.scoped);
    redraw('scoped');
  };
  return card('Scope and safety', [
    // Groups, mobile devices and Entra users have no org unit: no scope to offer (the API refuses one).
    hasOrgUnits(entity) && check('scoped', 'Only sync some org units', draft.scoped, toggleScope),
    hasOrgUnits(entity) &&
      draft.scoped && [
        field(
          'orgUnitScope.paths',
          'Org unit paths',
          h(
            'textarea',
            { id: 'paths', rows: 3, spellcheck: 'false', oninput: bindTo(draft, 'scopePaths') },
            draft.scopePaths,
          ),
          'One path per line, e.g. /Students/High School',
        ),
        check('children', 'Include child org units', draft.includeChildren, bindTo(draft, 'includeChildren')),
      ],
    field(
      'removalThresholdPercent',
      'Removal safety threshold (%)',
      textInput(draft, 'threshold', 'removalThreshold', { type: 'number', min: 0, max: 100 }),
      'A sync that would remove more than this share of records stops and asks you to confirm.',
    ),
    check(
      'enabled',
      'Enabled: include this mapping in scheduled syncs',
      draft.enabled,
      bindTo(draft, 'enabled'),
    ),
  ]);
}
