// What the editor's pickers offer instead of free text: the roles and objects the host product lists for the
// tenant (GET /login-roles, /product-objects) and the tenant's org unit tree (GET /org-units: synced, or read
// from Google). A list that cannot be loaded is null and its picker falls back to typing, with a hint saying why.
import { get, tenantPath } from '../api.js';

/**
 * @typedef {{id: string, label?: string}} HostItem
 * @typedef {{path: string, name: string, depth: number}} OrgUnit
 * @typedef {{
 *   roles: HostItem[] | null, objects: HostItem[] | null,
 *   orgUnits: OrgUnit[] | null, orgUnitsProblem: string | null,
 * }} PickerLists
 */

/** @returns {Promise<PickerLists>} */
export async function loadPickerLists(tenantId) {
  const load = (path, key) =>
    get(tenantPath(tenantId, path)).then(
      (d) => (Array.isArray(d?.[key]) ? d[key] : null),
      () => null,
    );
  let orgUnitsProblem = null;
  const [roles, objects, orgUnits] = await Promise.all([
    load('/login-roles', 'roles'),
    load('/product-objects', 'objects'),
    get(tenantPath(tenantId, '/org-units')).then(
      (d) => (Array.isArray(d?.orgUnits) ? d.orgUnits : null),
      (err) => ((orgUnitsProblem = err?.message ?? 'the org units could not be loaded'), null),
    ),
  ]);
  return { roles, objects, orgUnits, orgUnitsProblem };
}

/** An item as a person reads it: its label, and the id where it says more. @param {HostItem} item */
export const itemText = (item) =>
  item.label && item.label !== item.id ? `${item.label} (${item.id})` : item.id;
