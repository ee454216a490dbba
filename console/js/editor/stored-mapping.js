// Loading, creating, saving and deleting the mapping. Saves and deletes send the version the admin opened
// (If-Match), so a change someone else made meanwhile is refused instead of overwritten.
import { ApiError, request, tenantPath } from '../api.js';
import { busy, confirmDialog, h } from '../dom.js';
import { navigate } from '../router.js';
import { flashNext, notify, showError } from '../shell.js';

/** @typedef {{mapping: any, etag: string}} StoredMapping the mapping as last read or saved, with its version's ETag */

// Responses carry the mapping bare or wrapped ({mapping}), and the ETag header or only the version.
const mappingOf = (res) => res.data?.mapping ?? res.data;
const etagOf = (res, mapping) => res.etag ?? `"${mapping.version}"`;

const mappingPath = (tenantId, id) => tenantPath(tenantId, `/mappings/${encodeURIComponent(id)}`);

/**
 * 412: someone else saved or deleted the mapping meanwhile (the version sent is stale). A 409 is something else
 * (another mapping already writes the target or claims the org unit, or a concurrent write to retry): the API
 * says what in words, and the form stays as the admin filled it in (editor/error-report.js).
 */
const isStale = (e) => e instanceof ApiError && e.status === 412;

/** @returns {Promise<StoredMapping>} */
export async function loadMapping(tenantId, id) {
  const res = await request('GET', mappingPath(tenantId, id));
  const mapping = mappingOf(res);
  return { mapping, etag: etagOf(res, mapping) };
}

/**
 * Creates the mapping and opens it, or saves the changes to the stored one (updated in place).
 * @param {HTMLButtonElement} btn
 * @param {{
 *   tenantId: string, stored: StoredMapping | null, body: object,
 *   errors: ReturnType<typeof import('./error-report.js').errorReport>,
 *   onSaved: (mapping: any) => void, onConflict: () => void,
 * }} o
 */
export const submitMapping = (btn, { tenantId, stored, body, errors, onSaved, onConflict }) =>
  busy(btn, async () => {
    errors.clear();
    try {
      if (!stored) {
        const created = mappingOf(await request('POST', tenantPath(tenantId, '/mappings'), { body }));
        flashNext(() =>
          notify(`Mapping “${created.name}” was created. Use “Sync now” to run it right away.`),
        );
        return navigate(`/t/${tenantId}/mappings/${encodeURIComponent(created.id)}`);
      }
      const saved = stored.mapping;
      // A new unique identifier gives every record a new id: the API refuses it unless acknowledged.
      const identifierChanged = saved.identifier !== body.identifier;
      if (identifierChanged && !(await confirmIdentifierChange(saved.identifier, body.identifier))) return;
      const path = `${mappingPath(tenantId, saved.id)}${identifierChanged ? '?acknowledgeIdentifierChange=true' : ''}`;
      const res = await request('PUT', path, { body, ifMatch: stored.etag });
      Object.assign(saved, mappingOf(res));
      stored.etag = etagOf(res, saved);
      onSaved(saved);
      notify(`Changes to “${saved.name}” were saved.`);
    } catch (err) {
      if (isStale(err)) return onConflict();
      errors.report(err, 'The mapping could not be saved');
    }
  });

/** The warning before an identifier change is saved. */
const confirmIdentifierChange = (from, to) =>
  confirmDialog({
    title: 'Change the unique identifier?',
    message: [
      h(
        'p',
        null,
        `Records are keyed by ${from} today. Keyed by ${to}, every record gets a new id: the next sync moves each record to its new id, matched by its Google Workspace id, so nothing is duplicated or held for removal.`,
      ),
      h(
        'p',
        null,
        `Objects without a ${to} cannot be keyed and are judged for removal as usual. Use “Preview next run” to see the numbers first.`,
      ),
    ],
    confirm: 'Change identifier and save',
  });

/**
 * Asks, then deletes the stored mapping and goes back to the list.
 * @param {HTMLButtonElement} btn
 * @param {{tenantId: string, stored: StoredMapping, onConflict: () => void}} o
 */
export async function deleteMapping(btn, { tenantId, stored, onConflict }) {
  const saved = stored.mapping;
  const ok = await confirmDialog({
    title: `Delete “${saved.name}”?`,
    message: h(
      'p',
      null,
      'It stops syncing. Records it already wrote stay in your product. This cannot be undone.',
    ),
    confirm: 'Delete mapping',
    danger: true,
  });
  if (ok)
    await busy(btn, async () => {
      try {
        await request('DELETE', mappingPath(tenantId, saved.id), { ifMatch: stored.etag });
        flashNext(() => notify(`Mapping “${saved.name}” was deleted.`));
        navigate(`/t/${tenantId}/mappings`);
      } catch (err) {
        if (isStale(err)) return onConflict();
        showError(err, 'The mapping could not be deleted');
      }
    });
}

/**
 * After a conflict: renders the page again from the latest version and says why the admin's changes are gone.
 * @param {HTMLElement} el the page
 * @param {() => Promise<unknown>} rerender renders the page into `el`
 */
export async function reloadAfterConflict(el, rerender) {
  el.replaceChildren();
  try {
    await rerender();
    showError(
      new ApiError(
        0,
        'conflict',
        'Someone else changed this mapping while you were editing it. The latest version is shown now: make your changes again and save.',
      ),
      'This mapping was changed by someone else',
    );
  } catch (err) {
    showError(err, 'This mapping was changed or deleted by someone else');
  }
  el.querySelector('h1')?.focus();
}
