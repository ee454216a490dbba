// The editor's page header: breadcrumb, title, and for a stored mapping its version and page actions.
import { badge, button, h, objectIdOf, pageHeader } from '../dom.js';
import { startSync } from '../runs.js';
import { state } from '../shell.js';

/**
 * @param {{
 *   tenantId: string, title: string, saved: any | null,
 *   onDelete: (btn: HTMLButtonElement) => void,
 * }} o `saved`: the stored mapping, null for a new one
 */
export const editorHeader = ({ tenantId, title, saved, onDelete }) => [
  h('p', { class: 'crumbs' }, h('a', { href: `#/t/${tenantId}/mappings` }, 'Mappings'), ` / ${title}`),
  pageHeader(
    title,
    saved && [
      saved.enabled === false && badge('disabled'),
      button('Sync now', {
        'data-needs': 'write',
        disabled: state.tenant?.status !== 'active',
        onclick: (e) => startSync(tenantId, e.currentTarget, saved.id),
      }),
      h(
        'a',
        { class: 'btn', href: `#/t/${tenantId}/records/${encodeURIComponent(objectIdOf(saved.target))}` },
        'Records',
      ),
      button('Delete', {
        class: 'btn btn-danger-outline',
        'data-needs': 'write',
        onclick: (e) => onDelete(e.currentTarget),
      }),
    ],
    saved ? `Version ${saved.version}` : 'Choose what to sync from Google Workspace and where it goes.',
  ),
];
