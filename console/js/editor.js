// Mapping editor: one form drawn from the draft in editor/form-state.js by one function per section. The API
// checks the mapping; its errors land next to the inputs (editor/error-report.js).
import { h, replace } from './dom.js';
import { loadEntitySources, loadTenant } from './shell.js';
import { basicsSection } from './editor/basics.js';
import { editorHeader } from './editor/header.js';
import { errorReport } from './editor/error-report.js';
import { fieldMapSection } from './editor/field-map.js';
import { entitiesOf, findEntity, initialFormState, mappingBody } from './editor/form-state.js';
import { mappingPreview } from './editor/preview.js';
import { saveBar } from './editor/save-bar.js';
import { scopeAndSafetySection } from './editor/scope-safety.js';
import { loadPickerLists } from './editor/picker-lists.js';
import { deleteMapping, loadMapping, reloadAfterConflict, submitMapping } from './editor/stored-mapping.js';
import { targetSection } from './editor/target.js';

const SECTIONS = [basicsSection, targetSection, fieldMapSection, scopeAndSafetySection];

/** @type {import('./router.js').View} */
export async function renderEditor(route, el) {
  const tenantId = route.params.t ?? '';
  const id = route.params.id;
  const [sources, stored, , lists] = await Promise.all([
    loadEntitySources(),
    id ? loadMapping(tenantId, id) : null,
    loadTenant(tenantId),
    loadPickerLists(tenantId),
  ]);
  const saved = stored?.mapping ?? null;
  // A mapping reads from one source for good (an Entra mapping stays one): its entities are that source's.
  const entities = entitiesOf(sources, saved?.source);
  const draft = initialFormState(saved, entities);

  // Viewers see the mapping read-only (shell.js applyRoleGates), not a form that ends in a 403.
  const form = h('form', { novalidate: true, 'aria-label': 'Mapping', 'data-needs': 'write' });
  const errors = errorReport(form);
  const preview = mappingPreview(tenantId, () => mappingBody(draft), errors, saved?.id ?? null);
  const onConflict = () => reloadAfterConflict(el, () => renderEditor(route, el));

  /** Renders every section from the draft, then focuses `focusId` (the control that changed the layout). */
  const draw = (focusId) => {
    /** @type {import('./editor/controls.js').SectionContext} */
    const ctx = { draft, entities, entity: findEntity(entities, draft.entity), redraw: draw, lists };
    replace(
      form,
      errors.summary,
      SECTIONS.map((section) => section(ctx)),
      saveBar({ tenantId, isNew: !stored, onPreview: preview.run, onPreviewNextRun: preview.runNext }),
    );
    if (focusId) document.getElementById(focusId)?.focus();
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitMapping(form.querySelector('#save'), {
      tenantId,
      stored,
      body: mappingBody(draft),
      errors,
      onSaved: (mapping) => replace(el.querySelector('.sub'), `Version ${mapping.version}`),
      onConflict,
    });
  });

  draw();
  const title = saved ? saved.name : 'New mapping';
  el.append(
    ...editorHeader({
      tenantId,
      title,
      saved,
      onDelete: (btn) => deleteMapping(btn, { tenantId, stored, onConflict }),
    }),
    form,
    preview.element,
  );
  return title;
}
