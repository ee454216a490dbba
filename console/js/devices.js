// Device management: the actions an owner or admin may take on Chrome OS and mobile devices (one or up to 100
// at once), their confirmation dialog, and the per-device results. Contract: POST /api/tenants/:t/devices/actions.
import { ApiError, get, listOf, request, tenantPath } from './api.js';
import { button, h, objectIdOf, replace, uid } from './dom.js';

export const DEVICE_ENTITIES = ['chromeos', 'mobile'];
export const MAX_DEVICES = 100;

/**
 * Google's DeprovisionReason values an admin may choose (UNSPECIFIED and REPAIR_CENTER are not theirs to set),
 * as the API and functions/src/sources/google/device-actions.ts accept them.
 */
export const DEPROVISION_REASONS = [
  ['DEPROVISION_REASON_RETIRING_DEVICE', 'Retiring the device'],
  ['DEPROVISION_REASON_SAME_MODEL_REPLACEMENT', 'Replaced by the same model'],
  ['DEPROVISION_REASON_DIFFERENT_MODEL_REPLACEMENT', 'Replaced by a different model'],
  ['DEPROVISION_REASON_UPGRADE_TRANSFER', 'Upgrade transfer'],
  ['DEPROVISION_REASON_UPGRADE', 'Upgrade'],
  ['DEPROVISION_REASON_DOMAIN_MOVE', 'Moving to another domain'],
  ['DEPROVISION_REASON_SERVICE_EXPIRATION', 'Service expired'],
  ['DEPROVISION_REASON_NOT_REQUIRED', 'No longer required'],
  ['DEPROVISION_REASON_OTHER', 'Other'],
];

/**
 * Every action, what its button says and what it does, in plain words. `destructive` ones need the typed phrase.
 * @type {Record<string, {action: string, label: string, verb: string, destructive?: boolean, danger?: boolean, effect: string}[]>}
 */
export const ACTIONS = {
  chromeos: [
    {
      action: 'disable',
      label: 'Disable',
      verb: 'Disable',
      effect:
        'Nobody can use a disabled device: it shows a "disabled" screen until it is re-enabled. It keeps its enrollment and license.',
    },
    {
      action: 'reenable',
      label: 'Re-enable',
      verb: 'Re-enable',
      effect: 'The device can be used again. Re-enabling uses a device license.',
    },
    {
      action: 'deprovision',
      label: 'Deprovision',
      verb: 'Deprovision',
      destructive: true,
      danger: true,
      effect:
        'Deprovisioned devices stop receiving policies and lose device-level printers. To use one again it must be wiped and enrolled again. This cannot be undone here.',
    },
    {
      action: 'move',
      label: 'Move to org unit',
      verb: 'Move',
      effect: 'The device gets the policies and settings of the org unit it moves to.',
    },
  ],
  mobile: [
    {
      action: 'approve',
      label: 'Approve',
      verb: 'Approve',
      effect: 'The device may sync work data.',
    },
    {
      action: 'block',
      label: 'Block',
      verb: 'Block',
      effect: 'The device can no longer sync work data until it is approved again.',
    },
    {
      action: 'admin_account_wipe',
      label: 'Account wipe',
      verb: 'Wipe the work account from',
      destructive: true,
      danger: true,
      effect:
        'The work account and its data are removed from the device. Personal data stays. This cannot be undone.',
    },
    {
      action: 'admin_remote_wipe',
      label: 'Remote wipe',
      verb: 'Wipe',
      destructive: true,
      danger: true,
      effect:
        'The whole device is reset to factory settings: all data on it, work and personal, is erased. This cannot be undone.',
    },
    {
      action: 'cancel_remote_wipe_then_activate',
      label: 'Cancel wipe and approve',
      verb: 'Cancel the wipe of',
      effect: 'A remote wipe not yet carried out is cancelled and the device is approved again.',
    },
    {
      action: 'cancel_remote_wipe_then_block',
      label: 'Cancel wipe and block',
      verb: 'Cancel the wipe of',
      effect: 'A remote wipe not yet carried out is cancelled and the device stays blocked.',
    },
  ],
};

export const actionLabel = (action) =>
  Object.values(ACTIONS)
    .flat()
    .find((a) => a.action === action)?.label ?? action;

const plural = (n) => (n === 1 ? 'device' : 'devices');
/** The phrase the API wants as `confirm` for destructive actions: "deprovision 3 devices". */
export const confirmationPhrase = (action, n) => `${action} ${n} ${plural(n)}`;

/**
 * What the signed-in admin may do with devices: 'none' (viewers), 'off' (device management is not turned on), 'on'.
 * @returns {'none' | 'off' | 'on'}
 */
export function deviceAccess(tenant) {
  if (tenant?.role !== 'owner' && tenant?.role !== 'admin') return 'none';
  return tenant?.connection?.deviceManagement?.enabled === true ? 'on' : 'off';
}

/** The entity of a device object: chromeos or mobile when a device mapping writes it, else null. */
export function deviceEntityOf(mappings, objectId) {
  const m = mappings.find((x) => objectIdOf(x.target) === objectId && DEVICE_ENTITIES.includes(x.entity));
  return m ? m.entity : null;
}

/**
 * A device as the actions need it: its Directory id (deviceId, or a mobile device's resourceId) and a label a
 * person recognizes (the serial number or asset id the mapping identifies it by).
 * @typedef {{id: string, label: string}} Device
 */
export function deviceOfRecord(recordId, sync) {
  const id = sync?.sourceId;
  if (!id) return null;
  const value = sync?.identifier?.value ?? decodeURIComponent(recordId);
  const field = sync?.identifier?.field;
  return { id, label: value && value !== id ? `${value}` : id, field };
}

/**
 * The action buttons for `entity`: absent for viewers; disabled, with why and where to turn device management
 * on, when it is off. `devices()` answers the devices to act on (the selection); `onDone(action)` follows up.
 * @param {{t: string, tenant: any, entity: string, devices: () => Device[], onDone: (a: any) => void}} o
 */
export function actionBar(o) {
  const access = deviceAccess(o.tenant);
  if (access === 'none') return null;
  const off = access === 'off';
  const note = h('p', { class: 'hint', role: 'status' });
  const buttons = ACTIONS[o.entity]?.map((a) =>
    button(a.label, {
      class: `btn ${a.danger ? 'btn-danger-outline' : ''}`,
      disabled: off,
      'data-action': a.action,
      onclick: () => {
        const devices = o.devices();
        if (!devices.length) return (note.textContent = 'Select at least one device first.');
        if (devices.length > MAX_DEVICES)
          return (note.textContent = `Select at most ${MAX_DEVICES} devices for one action (${devices.length} selected).`);
        note.textContent = '';
        void openActionDialog({ ...o, spec: a, devices });
      },
    }),
  );
  return h(
    'div',
    { class: 'device-actions' },
    h('div', { class: 'actions' }, buttons),
    off &&
      h(
        'p',
        { class: 'hint device-off' },
        'Device management is off: Workspace Sync may only read devices. An owner or admin turns it on from the ',
        h('a', { href: `#/t/${o.t}` }, 'overview'),
        ' (Google asks a Workspace admin to approve it).',
      ),
    note,
  );
}

/** Devices by name, the first ten, then how many more. */
function deviceList(devices) {
  const shown = devices.slice(0, 10);
  return h(
    'ul',
    { class: 'device-names' },
    shown.map((d) => h('li', null, h('code', null, d.label))),
    devices.length > shown.length && h('li', null, `and ${devices.length - shown.length} more`),
  );
}

/** The org units to move to: from a synced org units object when there is one, else null (type the id). */
async function orgUnitChoices(t) {
  try {
    const mappings = listOf(await get(tenantPath(t, '/mappings')), 'mappings');
    const m = mappings.find((x) => x.entity === 'orgunits' && x.target?.kind === 'collection');
    if (!m) return null;
    const pathField = m.fieldMap?.find((f) => f.source === 'orgUnitPath')?.target;
    const data = await get(
      tenantPath(t, `/objects/${encodeURIComponent(m.target.objectId)}/records?status=active&limit=200`),
    );
    const units = listOf(data, 'records')
      .map((r) => ({
        id: r.sync?.sourceId,
        path: (pathField && r.data?.[pathField]) || r.sync?.identifier?.value || r.sync?.sourceId,
      }))
      .filter((u) => u.id)
      .sort((a, b) => String(a.path).localeCompare(String(b.path)));
    return units.length ? units : null;
  } catch {
    return null;
  }
}

/**
 * The confirmation dialog: names the devices and the consequence, asks for the reason or org unit, and for
 * destructive actions the exact phrase. Sends the action with an Idempotency-Key that a retry after a network
 * error reuses (so a request that did reach the API is not carried out twice), then shows each device's result.
 */
async function openActionDialog({ t, entity, spec, devices, onDone }) {
  const dlg = /** @type {HTMLDialogElement} */ (document.getElementById('confirm'));
  const n = devices.length;
  const phrase = confirmationPhrase(spec.action, n);
  const title = `${spec.verb} ${n} ${plural(n)}?`;
  const error = h('div', { role: 'alert' });
  const fields = [];
  /** @type {() => Record<string, string> | null} */
  let extra = () => ({});

  if (spec.action === 'deprovision') {
    const id = uid('reason');
    const sel = h(
      'select',
      { id, required: true },
      h('option', { value: '' }, 'Choose a reason'),
      DEPROVISION_REASONS.map(([v, l]) => h('option', { value: v }, l)),
    );
    fields.push(h('div', { class: 'field' }, h('label', { for: id }, 'Reason'), sel));
    extra = () => (sel.value ? { deprovisionReason: sel.value } : null);
    sel.addEventListener('change', () => update());
  }
  if (spec.action === 'move') {
    const id = uid('ou');
    const units = await orgUnitChoices(t);
    const input = units
      ? h(
          'select',
          { id, required: true },
          h('option', { value: '' }, 'Choose an org unit'),
          units.map((u) => h('option', { value: u.id }, u.path)),
        )
      : h('input', { id, required: true, autocomplete: 'off', spellcheck: 'false' });
    fields.push(
      h(
        'div',
        { class: 'field' },
        h('label', { for: id }, units ? 'Org unit' : 'Org unit ID'),
        input,
        !units &&
          h('p', { class: 'hint' }, 'The org unit’s ID from Google’s Admin console, e.g. id:03ph8a2z1x2y3z.'),
      ),
    );
    extra = () => (input.value.trim() ? { orgUnitId: input.value.trim() } : null);
    input.addEventListener(units ? 'change' : 'input', () => update());
  }
  /** @type {HTMLInputElement | null} */
  let typed = null;
  if (spec.destructive) {
    const id = uid('phrase');
    typed = h('input', { id, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${id}-hint` });
    typed.addEventListener('input', () => update());
    fields.push(
      h(
        'div',
        { class: 'field' },
        h('label', { for: id }, ['Type ', h('code', null, phrase), ' to confirm']),
        typed,
        h('p', { id: `${id}-hint`, class: 'hint' }, 'The action starts only when the text matches exactly.'),
      ),
    );
  }

  const go = h(
    'button',
    { type: 'submit', class: `btn ${spec.danger ? 'btn-danger' : 'btn-primary'}` },
    n === 1 ? spec.label : `${spec.label} (${n})`,
  );
  const cancel = button('Cancel', { onclick: () => dlg.close() });
  const ready = () => extra() !== null && (!typed || typed.value === phrase);
  function update() {
    go.disabled = !ready();
  }

  let key = '';
  let keyBody = '';
  const form = h(
    'form',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        if (!ready()) return;
        const body = {
          entity,
          action: spec.action,
          deviceIds: devices.map((d) => d.id),
          ...extra(),
          ...(typed ? { confirm: phrase } : {}),
        };
        // A fresh key per request; the same one again only when this very request is retried.
        const json = JSON.stringify(body);
        if (json !== keyBody) [key, keyBody] = [crypto.randomUUID(), json];
        go.disabled = true;
        go.setAttribute('aria-busy', 'true');
        cancel.disabled = true;
        error.replaceChildren();
        try {
          const { data } = await request('POST', tenantPath(t, '/devices/actions'), {
            body,
            headers: { 'Idempotency-Key': key },
          });
          showResults(dlg, data?.action ?? data, devices);
          onDone(data?.action ?? data);
        } catch (err) {
          const network = err instanceof ApiError && err.status === 0;
          if (!network) keyBody = '';
          replace(
            error,
            h(
              'div',
              { class: 'alert t-bad' },
              h(
                'div',
                null,
                h('strong', null, network ? 'The request may not have arrived' : 'The action was refused'),
                h('p', null, err instanceof Error ? err.message : String(err)),
                network &&
                  h(
                    'p',
                    { class: 'small' },
                    'Try again: the devices are acted on once, however often you retry.',
                  ),
              ),
            ),
          );
          go.textContent = network ? 'Try again' : go.textContent;
          cancel.disabled = false;
          go.removeAttribute('aria-busy');
          update();
        }
      },
    },
    h('h2', { id: 'confirm-title' }, title),
    h(
      'div',
      { id: 'confirm-body' },
      h('p', null, spec.effect),
      h('p', null, n === 1 ? 'Device:' : `These ${n} devices:`),
      deviceList(devices),
    ),
    fields,
    error,
    h('div', { class: 'actions' }, cancel, go),
  );
  replace(dlg, form);
  update();
  dlg.returnValue = '';
  dlg.showModal();
  (fields.length ? form.querySelector('select, input') : cancel)?.focus();
}

/** Each device's outcome, as Google answered it. */
function showResults(dlg, action, devices) {
  const byId = new Map(devices.map((d) => [d.id, d.label]));
  const results = action?.results ?? [];
  const ok = action?.succeeded ?? results.filter((r) => r.ok).length;
  const failed = action?.failed ?? results.length - ok;
  const close = button('Close', { class: 'btn btn-primary', onclick: () => dlg.close() });
  replace(
    dlg,
    h('h2', { id: 'confirm-title' }, `${actionLabel(action?.action)}: ${ok} succeeded, ${failed} failed`),
    h(
      'div',
      { id: 'confirm-body', role: 'status' },
      resultList(results, byId),
      ok > 0 &&
        h(
          'p',
          { class: 'hint' },
          'Workspace Sync syncs these devices again now; their new status shows in a few seconds.',
        ),
    ),
    h('div', { class: 'actions' }, close),
  );
  close.focus();
}

/** Per-device results: succeeded, or failed with Google's message. */
export function resultList(results, labels = new Map()) {
  return h(
    'ul',
    { class: 'device-results' },
    results.map((r) =>
      h(
        'li',
        { class: r.ok ? 'ok' : 'bad', 'data-device-id': r.deviceId },
        h('code', null, labels.get(r.deviceId) ?? r.deviceId),
        ' ',
        r.ok
          ? h('span', null, 'Succeeded')
          : h('span', null, `Failed: ${r.error?.message ?? r.error?.kind ?? 'unknown error'}`),
      ),
    ),
  );
}

/**
 * Polls `check` every 2 s for at most 20 s (the sync the API started needs a few seconds), calling `onTick` with
 * each answer, until `check` says it changed or the time is up. Stops when `alive()` turns false (navigation).
 */
export async function pollUntilChanged(check, alive, tries = 10) {
  for (let i = 0; i < tries && alive(); i++) {
    await new Promise((r) => setTimeout(r, 2000));
    if (!alive()) return;
    try {
      if (await check()) return;
    } catch {
      // A failed poll is not an error to show: the next one (or a reload) will do.
    }
  }
}
