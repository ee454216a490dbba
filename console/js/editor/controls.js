// The editor's form controls. Each sits in a wrapper carrying `data-path`, the API's error path for it, and an
// empty error slot: the error report finds the wrapper by path and fills the slot.
import { h } from '../dom.js';
import { setValue } from './form-state.js';

/**
 * What every section renders from.
 * @typedef {{
 *   draft: import('./form-state.js').FormState,
 *   entities: import('./form-state.js').Entity[],
 *   entity: import('./form-state.js').Entity,
 *   redraw: (focusId?: string) => void,
 *   lists: import('./picker-lists.js').PickerLists,
 * }} SectionContext `entity` is the chosen one; `redraw` re-renders the form and focuses `focusId`; `lists` are
 *   what the pickers offer (the product's roles and objects, the org unit tree)
 */

/** How an identifier or source field is shown: its label from GET /api/entities, else its API name. */
export const labelOf = (entity, path) => entity.labels?.[path] ?? path;

/** A field: label, optional hint, an error slot, the control. */
export function field(path, label, control, hint) {
  const id = control.id;
  if (hint) control.setAttribute('aria-describedby', `${id}-hint`);
  return h(
    'div',
    { class: 'field', 'data-path': path },
    h('label', { for: id }, label),
    hint && h('p', { class: 'hint', id: `${id}-hint` }, hint),
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
    control,
  );
}

/** Radio choices shown as cards, in a fieldset with a legend and an error slot. Items: [value, label, hint]. */
export function choices(path, legend, name, items, value, onpick) {
  return h(
    'fieldset',
    { class: 'field', 'data-path': path },
    h('legend', null, legend),
    h('p', { class: 'field-error', id: `${name}-error`, hidden: true }),
    h(
      'div',
      { class: 'choices' },
      items.map(([v, label, hint]) =>
        h(
          'label',
          { class: 'choice' },
          h('input', {
            type: 'radio',
            name,
            value: v,
            id: `${name}-${v}`,
            checked: v === value,
            onchange: () => onpick(v),
          }),
          h('span', null, h('strong', null, label), h('small', null, hint)),
        ),
      ),
    ),
  );
}

export const check = (id, label, checked, onchange) =>
  h(
    'div',
    { class: 'check' },
    h('input', { type: 'checkbox', id, checked, onchange }),
    h('label', { for: id }, label),
  );

/** Input handler writing the control's value (a checkbox's checked state) into the draft. */
export const bindTo = (draft, key) => (e) =>
  setValue(draft, key, e.target.type === 'checkbox' ? e.target.checked : e.target.value);

/** A text input showing and editing one value of the draft. */
export const textInput = (draft, id, key, extra = {}) =>
  h('input', {
    id,
    value: draft[key],
    autocomplete: 'off',
    spellcheck: 'false',
    oninput: bindTo(draft, key),
    ...extra,
  });
