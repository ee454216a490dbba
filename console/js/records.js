// The records a sync wrote into one object: active ones, or removed ones with when and why.
import { get, listOf, tenantPath } from './api.js';
import { badge, button, cellValue, h, objectIdOf, pageHeader, replace, table, time, uid } from './dom.js';
import { navigate } from './router.js';
import { loadTenant } from './shell.js';
import { actionBar, deviceEntityOf, deviceOfRecord, MAX_DEVICES, pollUntilChanged } from './devices.js';
import { recordHref } from './device-views.js';

/** @type {import('./router.js').View} */
export async function renderRecords(route, el) {
  const t = route.params.t ?? '';
  const [tenant, md] = await Promise.all([loadTenant(t), get(tenantPath(t, '/mappings'))]);
  /** @type {Map<string, string[]>} object id -> names of the mappings writing it */
  const objects = new Map();
  for (const m of listOf(md, 'mappings'))
    objects.set(objectIdOf(m.target), [...(objects.get(objectIdOf(m.target)) ?? []), m.name]);
  const objectId = route.params.objectId ?? [...objects.keys()][0];
  const status = ['inactive', 'removed'].includes(route.query.get('status') ?? '')
    ? route.query.get('status')
    : 'active';
  const removed = status === 'removed';
  // Chrome OS and mobile device objects get selection and the device actions.
  const entity = objectId ? deviceEntityOf(listOf(md, 'mappings'), objectId) : null;
  const head = pageHeader(
    'Records',
    entity ? h('a', { class: 'btn', href: `#/t/${t}/devices/actions` }, 'Action history') : null,
    'What the sync wrote into your product. Records are never deleted: when something disappears from Google Workspace it is marked removed, with the reason.',
  );
  if (!objectId) {
    el.append(
      head,
      h(
        'section',
        { class: 'card empty' },
        h('h2', null, 'No records yet'),
        h('p', { class: 'muted' }, 'Records appear here once a mapping has synced.'),
      ),
    );
    return 'Records';
  }
  if (!objects.has(objectId)) objects.set(objectId, []);
  const go = (o, s) =>
    navigate(`/t/${t}/records/${encodeURIComponent(o)}${s === 'active' ? '' : `?status=${s}`}`);

  const sel = uid('obj');
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    h(
      'div',
      { class: 'filter' },
      h('label', { for: sel }, 'Object'),
      h(
        'select',
        { id: sel, onchange: (e) => go(e.target.value, status) },
        [...objects].map(([o, names]) =>
          h(
            'option',
            { value: o, selected: o === objectId },
            names.length ? `${o} (${names.join(', ')})` : o,
          ),
        ),
      ),
    ),
    h(
      'fieldset',
      { class: 'segmented' },
      h('legend', { class: 'visually-hidden' }, 'Show'),
      ['active', 'inactive', 'removed'].map((s) =>
        h(
          'label',
          null,
          h('input', { type: 'radio', name: 'show', checked: s === status, onchange: () => go(objectId, s) }),
          h('span', null, s[0]?.toUpperCase() + s.slice(1)),
        ),
      ),
    ),
  );

  /** @type {any[]} */
  const all = [];
  /** Selected devices by record id (the selection survives "Load more"). */
  const selected = new Map();
  const host = h('div');
  const count = h('p', { class: 'muted small', role: 'status' });
  const picked = h('p', { class: 'muted small', role: 'status' });
  const here = location.hash;
  const showPicked = () => {
    picked.textContent = selected.size
      ? `${selected.size} selected${selected.size > MAX_DEVICES ? ` (at most ${MAX_DEVICES} per action)` : ''}`
      : 'Select devices to act on them.';
  };
  /** After an action: reload the first page every 2 s (bounded) until an acted-on device's record changed. */
  const onDone = async (action) => {
    if (!action?.succeeded) return;
    const ids = new Set((action.results ?? []).filter((r) => r.ok).map((r) => r.deviceId));
    const stamp = () =>
      all
        .filter((r) => ids.has(r.sync.sourceId))
        .map((r) => `${r.id}|${r.sync.updatedAt}|${r.sync.status}`)
        .join(',');
    const before = stamp();
    selected.clear();
    await pollUntilChanged(
      async () => {
        all.length = 0;
        await load();
        return stamp() !== before;
      },
      () => location.hash === here,
    );
  };
  const bar =
    entity &&
    actionBar({
      t,
      tenant,
      entity,
      devices: () => [...selected.values()],
      onDone: (a) => void onDone(a),
    });
  const load = async (pageToken) => {
    const qs = new URLSearchParams({
      status,
      limit: '50',
      ...(pageToken && { pageToken }),
    });
    const data = await get(tenantPath(t, `/objects/${encodeURIComponent(objectId)}/records?${qs}`));
    // Records come as {recordId, data, sync} (or {id, ...fields, _sync}).
    all.push(
      ...listOf(data, 'records').map(({ id, recordId, objectId: _o, data: d, sync, _sync, ...rest }) => ({
        id: id ?? recordId,
        data: d ?? rest,
        sync: sync ?? _sync ?? {},
      })),
    );
    const cols = [...new Set(all.flatMap((r) => Object.keys(r.data)))].slice(0, removed ? 4 : 8);
    const selectable = bar ? all.filter((r) => deviceOfRecord(r.id, r.sync)) : [];
    const boxes = [];
    const selectAll = h('input', {
      type: 'checkbox',
      'aria-label': 'Select all devices on this page',
      checked: selectable.length > 0 && selectable.every((r) => selected.has(r.id)),
      onchange: (e) => {
        for (const r of selectable) {
          if (e.target.checked) selected.set(r.id, deviceOfRecord(r.id, r.sync));
          else selected.delete(r.id);
        }
        for (const b of boxes) b.checked = e.target.checked;
        showPicked();
      },
    });
    const checkbox = (r) => {
      const device = deviceOfRecord(r.id, r.sync);
      if (!device) return h('td', null);
      const box = h('input', {
        type: 'checkbox',
        'aria-label': `Select ${device.label}`,
        checked: selected.has(r.id),
        onchange: (e) => {
          if (e.target.checked) selected.set(r.id, device);
          else selected.delete(r.id);
          selectAll.checked = selectable.every((x) => selected.has(x.id));
          showPicked();
        },
      });
      boxes.push(box);
      return h('td', { class: 'pick' }, box);
    };
    showPicked();
    count.textContent = `${all.length} ${status} ${all.length === 1 ? 'record' : 'records'}${data?.nextPageToken ? ' so far' : ''}`;
    replace(
      host,
      all.length
        ? table(
            `${status} records in ${objectId}`,
            [
              bar && { text: selectAll, cls: 'pick' },
              'Record ID',
              'Status',
              removed ? 'Removed' : 'Updated',
              removed && 'Why it was removed',
              ...cols,
            ].filter(Boolean),
            all.map((r) =>
              h(
                'tr',
                { 'data-record-id': r.id },
                bar && checkbox(r),
                // Ids are URL-encoded identifier values (an email, a serial number): show them readable.
                h(
                  'td',
                  null,
                  h('a', { href: recordHref(t, objectId, r.id) }, h('code', null, decodeURIComponent(r.id))),
                ),
                h(
                  'td',
                  null,
                  badge(r.sync.status ?? 'active'),
                  r.sync.inactiveReason && h('span', { class: 'muted small' }, ` ${r.sync.inactiveReason}`),
                ),
                h('td', null, time(removed ? r.sync.removedAt : r.sync.updatedAt)),
                removed && h('td', { class: 'wrap' }, r.sync.removedReason ?? '—'),
                cols.map((c) => h('td', null, cellValue(r.data[c]))),
              ),
            ),
          )
        : h(
            'p',
            { class: 'muted' },
            removed
              ? 'No removed records: nothing synced into this object has disappeared from Google Workspace.'
              : `No ${status} records${status === 'active' ? ' yet. Run a sync to fill this object.' : '.'}`,
          ),
      data?.nextPageToken &&
        h(
          'p',
          { class: 'more' },
          button('Load more', {
            onclick: (e) => ((e.currentTarget.disabled = true), load(data.nextPageToken)),
          }),
        ),
    );
  };
  await load();
  el.append(
    head,
    h(
      'section',
      { class: 'card' },
      toolbar,
      bar &&
        h('div', { class: 'bulk', role: 'group', 'aria-label': 'Act on the selected devices' }, picked, bar),
      count,
      host,
    ),
  );
  return `Records · ${objectId}`;
}
