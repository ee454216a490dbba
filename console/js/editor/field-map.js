// "Fields": which fields of the source to copy and the name each gets in the product, one row per field.
import { button, card, h, sourceLabel } from '../dom.js';
import {
  addFieldRow,
  pickCustomSource,
  pickListedSource,
  removeFieldRow,
  setCustomSource,
  setRowTarget,
  setWriteBack,
} from './form-state.js';
import { labelOf } from './controls.js';

/** The source option that reveals a text input for a custom schema path. */
const CUSTOM_SOURCE = '__custom__';

/** @param {import('./controls.js').SectionContext} ctx */
export function fieldMapSection({ draft, entity, redraw }) {
  const listed = entity.fields.filter((f) => !f.endsWith('.*'));
  // A `customSchemas.*` entry means the entity takes custom schema paths the list cannot name.
  const takesCustom = entity.fields.some((f) => f.endsWith('.*'));
  const addRow = () => {
    addFieldRow(draft);
    redraw(`src-${draft.fieldRows.length - 1}`);
  };
  return card('Fields', [
    h(
      'p',
      { class: 'muted' },
      `Choose the ${sourceLabel(draft.source)} fields to copy and name the field each becomes in your product.`,
    ),
    h(
      'div',
      { class: 'field', 'data-path': 'fieldMap' },
      h('p', { class: 'field-error', id: 'fieldmap-error', hidden: true }),
      h(
        'div',
        { class: 'fm-head', 'aria-hidden': 'true' },
        h('span', null, `${sourceLabel(draft.source)} field`),
        h('span', null, 'Field in your product'),
      ),
      h(
        'ol',
        { class: 'fm-rows' },
        draft.fieldRows.map((row, i) =>
          fieldRow({ draft, redraw, entity }, row, i, listed, takesCustom, entity.writable ?? []),
        ),
      ),
      button('Add field', { class: 'btn btn-small', id: 'add-field', onclick: addRow }),
      takesCustom &&
        h(
          'p',
          { class: 'hint' },
          'For a custom schema field choose “Custom schema field…” and type customSchemas.SchemaName.fieldName.',
        ),
    ),
  ]);
}

/** One row: source from the entity's list (or custom text), target name, remove. */
function fieldRow({ draft, redraw, entity }, row, i, listed, takesCustom, writable) {
  const n = i + 1;
  const custom = h('input', {
    id: `src-custom-${i}`,
    value: row.custom ? row.source : '',
    placeholder: 'customSchemas.Schema.field',
    hidden: !row.custom,
    oninput: (e) => setCustomSource(row, e.target.value),
  });
  const target = h('input', {
    id: `tgt-${i}`,
    value: row.target,
    autocomplete: 'off',
    oninput: (e) => setRowTarget(draft, row, e.target.value),
  });
  // Chrome OS annotations (and the org unit) may be written back to Google from the product.
  const writeBack = h('input', {
    type: 'checkbox',
    id: `wb-${i}`,
    checked: row.direction === 'toGoogle',
    onchange: (e) => setWriteBack(draft, row, e.target.checked),
  });
  const writeBackLabel = h(
    'label',
    { class: 'check small', for: `wb-${i}`, hidden: !writable.includes(row.source) },
    writeBack,
    ' Write back to Google',
  );
  // Updated in place rather than redrawn, so the select keeps focus while the admin tries options.
  const pickSource = (e) => {
    const choice = e.target.value;
    custom.hidden = choice !== CUSTOM_SOURCE;
    if (choice === CUSTOM_SOURCE) {
      pickCustomSource(draft, row, custom.value);
      custom.focus();
      return;
    }
    pickListedSource(draft, row, choice);
    target.value = row.target;
    writeBack.checked = row.direction === 'toGoogle';
    writeBackLabel.hidden = !writable.includes(row.source);
  };
  const removeRow = () => {
    removeFieldRow(draft, i);
    redraw(draft.fieldRows.length ? `src-${Math.min(i, draft.fieldRows.length - 1)}` : 'add-field');
  };
  const slot = (path, controlId) => [
    { 'data-path': `fieldMap.${i}.${path}`, class: 'field' },
    h('p', { class: 'field-error', id: `${controlId}-error`, hidden: true }),
  ];
  return h(
    'li',
    { class: 'fm-row' },
    h(
      'div',
      ...slot('source', `src-${i}`),
      h('label', { for: `src-${i}`, class: 'fm-label' }, `${sourceLabel(draft.source)} field, row ${n}`),
      h(
        'select',
        { id: `src-${i}`, onchange: pickSource },
        h('option', { value: '' }, 'Choose a field…'),
        listed.map((f) =>
          h('option', { value: f, selected: !row.custom && f === row.source, title: f }, labelOf(entity, f)),
        ),
        (takesCustom || row.custom) &&
          h('option', { value: CUSTOM_SOURCE, selected: row.custom }, 'Custom schema field…'),
      ),
      h('label', { for: `src-custom-${i}`, class: 'visually-hidden' }, `Custom schema field, row ${n}`),
      custom,
    ),
    h(
      'div',
      ...slot('target', `tgt-${i}`),
      h('label', { for: `tgt-${i}`, class: 'fm-label' }, `Field in your product, row ${n}`),
      target,
      writeBackLabel,
    ),
    button('Remove', {
      class: 'btn btn-small btn-ghost',
      'aria-label': `Remove row ${n}${row.source ? ` (${labelOf(entity, row.source)})` : ''}`,
      onclick: removeRow,
    }),
  );
}
