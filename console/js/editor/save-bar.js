// The form's actions: submit (create or save), preview, and back to the list.
import { button, h } from '../dom.js';

/**
 * @param {{tenantId: string, isNew: boolean, onPreview: (btn: HTMLButtonElement) => void,
 *   onPreviewNextRun?: ((btn: HTMLButtonElement) => void) | null}} o
 */
export const saveBar = ({ tenantId, isNew, onPreview, onPreviewNextRun = null }) =>
  h(
    'div',
    { class: 'actions' },
    h('button', { class: 'btn btn-primary', id: 'save' }, isNew ? 'Create mapping' : 'Save changes'),
    button('Preview', { onclick: (e) => onPreview(e.currentTarget) }),
    onPreviewNextRun &&
      button('Preview next run', {
        id: 'preview-next-run',
        onclick: (e) => onPreviewNextRun(e.currentTarget),
      }),
    h('a', { class: 'btn btn-ghost', href: `#/t/${tenantId}/mappings` }, 'Cancel'),
  );
