// "Scope and safety": the optional org-unit scope, the removal threshold and whether scheduled syncs run it.
import { card, h } from '../dom.js';
import { bindTo, check, field, textInput } from './controls.js';
import { hasOrgUnits, scopePathList, setValue, toggleScopePath } from './form-state.js';

/** @param {import('./controls.js').SectionContext} ctx */
export function scopeAndSafetySection({ draft, entity, redraw, lists }) {
  const toggleScope = () => {
    setValue(draft, 'scoped', !draft.scoped);
    redraw('scoped');
  };
  return card('Scope and safety', [
    // Groups, mobile devices and Entra users have no org unit: no scope to offer (the API refuses one).
    hasOrgUnits(entity) && check('scoped', 'Only sync some org units', draft.scoped, toggleScope),
    hasOrgUnits(entity) &&
      draft.scoped && [
        lists.orgUnits?.length
          ? orgUnitPicker(draft, lists.orgUnits, redraw)
          : field(
              'orgUnitScope.paths',
              'Org unit paths',
              h(
                'textarea',
                { id: 'paths', rows: 3, spellcheck: 'false', oninput: bindTo(draft, 'scopePaths') },
                draft.scopePaths,
              ),
              `One path per line, e.g. /Students/High School${lists.orgUnitsProblem ? ` (the org unit list could not be loaded: ${lists.orgUnitsProblem})` : ''}`,
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

/**
 * The org units to sync, ticked in the tenant's org unit tree (indented by depth). A stored path the tree no
 * longer has stays listed, ticked, so saving does not drop it silently. Each ticked unit carries the API's error
 * path of its place in the scope (`orgUnitScope.paths.N`), so an error about it (a conflict with another
 * login-users mapping) shows next to it.
 * @param {import('./form-state.js').FormState} draft
 * @param {import('./picker-lists.js').OrgUnit[]} units
 */
function orgUnitPicker(draft, units, redraw) {
  const order = scopePathList(draft);
  const known = new Set(units.map((u) => u.path));
  const rows = [
    ...units,
    ...order.filter((p) => !known.has(p)).map((path) => ({ path, depth: 0, missing: true })),
  ];
  return h(
    'fieldset',
    { class: 'field', 'data-path': 'orgUnitScope.paths' },
    h('legend', null, 'Org units'),
    h(
      'p',
      { class: 'hint', id: 'ou-hint' },
      'Tick the org units to sync. For login users, a user in several ticked units of different login-users mappings gets the mapping of the most specific (deepest) one.',
    ),
    h('p', { class: 'field-error', id: 'ou-tree-error', hidden: true }),
    h(
      'ul',
      {
        class: 'ou-tree',
        style: 'list-style:none;margin:0;padding:0;max-height:18rem;overflow:auto',
        'aria-describedby': 'ou-hint',
      },
      rows.map((unit, k) => {
        const id = `ou-${k}`;
        const at = order.indexOf(unit.path);
        return h(
          'li',
          {
            style: `padding-left:${unit.depth * 1.25}rem`,
            ...(at >= 0 ? { 'data-path': `orgUnitScope.paths.${at}` } : {}),
          },
          h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
          h(
            'div',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              id,
              checked: at >= 0,
              onchange: (e) => {
                toggleScopePath(draft, unit.path, e.target.checked);
                redraw(id);
              },
            }),
            h(
              'label',
              { for: id },
              unit.path === '/' ? '/ (the whole organization)' : unit.path,
              unit.missing && h('span', { class: 'muted small' }, ' (no longer in Google Workspace)'),
            ),
          ),
        );
      }),
    ),
  );
}
