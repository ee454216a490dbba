// The write-back form on a Chrome OS device's record page: the fields its mapping writes back to Google, as
// the record holds them, for an owner or admin to change. Only what was changed is sent; notes are appended at
// Google through the mapping's template, so the notes box adds a line rather than editing the old ones.
import { ApiError, request, tenantPath } from './api.js';
import { button, h, replace } from './dom.js';
import { deviceAccess } from './devices.js';

/** Shown with the notes box: how a note lands at Google (shared/mapping.ts DEFAULT_NOTES_TEMPLATE). */
const DEFAULT_NOTES_TEMPLATE = '[{{date}} {{by}}] {{text}}';

const LABELS = {
  annotatedAssetId: 'Asset ID',
  annotatedLocation: 'Location',
  annotatedUser: 'Assigned user',
  notes: 'Add a note',
  orgUnitPath: 'Org unit path',
  orgUnitId: 'Org unit ID',
};

/**
 * @param {{t: string, tenant: any, objectId: string, recordId: string, mapping: any,
 *   values: () => Record<string, unknown>, onWritten: (action: any) => void | Promise<void>}} o
 * @returns {HTMLElement | null} null when the mapping writes nothing back or the admin may not (viewers)
 */
export function writeBackForm(o) {
  const fields = (o.mapping?.fieldMap ?? []).filter((f) => f.direction === 'toGoogle');
  if (!fields.length || o.mapping.entity !== 'chromeos') return null;
  const access = deviceAccess(o.tenant);
  if (access === 'none') return null;
  const off = access === 'off';

  const controls = fields.map((f) => {
    const id = `wb-${f.target}`;
    const notes = f.source === 'notes';
    const current = o.values()[f.target];
    const control = notes
      ? h('textarea', { id, rows: 2, disabled: off, 'data-field': f.target })
      : h('input', {
          id,
          value: current == null ? '' : String(current),
          autocomplete: 'off',
          disabled: off,
          'data-field': f.target,
        });
    const hint = notes
      ? h(
          'p',
          { class: 'hint small' },
          'Added below the notes Google holds, as ',
          h('code', null, f.appendTemplate ?? DEFAULT_NOTES_TEMPLATE),
        )
      : f.source === 'orgUnitPath'
        ? h('p', { class: 'hint small' }, 'Moves the device; Google is sent the org unit’s ID.')
        : null;
    return {
      f,
      notes,
      control,
      row: h(
        'div',
        { class: 'field' },
        h('label', { for: id }, `${LABELS[f.source] ?? f.source} (${f.target})`),
        control,
        hint,
      ),
    };
  });

  const status = h('p', { class: 'hint', role: 'status' });
  const error = h('div', { role: 'alert' });
  const submit = button('Write to Google', { class: 'btn btn-primary', type: 'submit', disabled: off });

  /** The fields the admin changed: a note when one was typed, any other field when it differs from the record. */
  const changed = () => {
    const values = o.values();
    const out = {};
    for (const c of controls) {
      const v = c.control.value;
      if (c.notes) {
        if (v.trim()) out[c.f.target] = v;
      } else if (v !== (values[c.f.target] == null ? '' : String(values[c.f.target]))) {
        // An emptied annotation clears it at Google; a device is always in some org unit, so that stays a value.
        out[c.f.target] = v === '' && !c.f.source.startsWith('orgUnit') ? null : v;
      }
    }
    return out;
  };

  const send = async (e) => {
    e.preventDefault();
    replace(error);
    const body = changed();
    if (!Object.keys(body).length) return (status.textContent = 'Nothing changed.');
    submit.disabled = true;
    status.textContent = 'Writing to Google Workspace…';
    try {
      const { data } = await request(
        'POST',
        tenantPath(
          o.t,
          `/objects/${encodeURIComponent(o.objectId)}/records/${encodeURIComponent(o.recordId)}/write-back`,
        ),
        { body: { fields: body } },
      );
      for (const c of controls) if (c.notes) c.control.value = '';
      status.textContent = `Written to Google: ${Object.keys(body).join(', ')}.`;
      await o.onWritten(data?.action);
      const values = o.values();
      for (const c of controls)
        if (!c.notes) c.control.value = values[c.f.target] == null ? '' : String(values[c.f.target]);
    } catch (err) {
      status.textContent = '';
      const message = err instanceof ApiError ? err.message : String(err);
      const advice =
        err instanceof ApiError && err.code === 'conflict'
          ? ' Someone changed it in Google since the last sync; sync again to see their value, then decide.'
          : '';
      replace(error, h('p', { class: 'error' }, `Not written: ${message}.${advice}`));
    } finally {
      submit.disabled = off;
    }
  };

  return h(
    'form',
    { class: 'write-back', onsubmit: send, 'aria-label': 'Write back to Google' },
    controls.map((c) => c.row),
    off &&
      h(
        'p',
        { class: 'hint device-off' },
        'Device management is off: Workspace Sync may only read devices. Turn it on from the ',
        h('a', { href: `#/t/${o.t}` }, 'overview'),
        ' to write these fields to Google.',
      ),
    h('div', { class: 'actions' }, submit),
    status,
    error,
  );
}
