// The records a sync wrote into one object: active ones, or removed ones with when and why.
import { get, listOf, tenantPath } from './api.js';
import { badge, button, cellValue, h, objectIdOf, pageHeader, replace, table, time, uid } from './dom.js';
import { navigate } from './router.js';
import { loadTenant } from './shell.js';

/** @type {import('./router.js').View} */
export async function renderRecords(route, el) {
  const t = route.params.t ?? '';
  const [, md] = await Promise.all([loadTenant(t), get(tenantPath(t, '/mappings'))]);
  /** @type {Map<string, string[]>} object id -> names of the mappings writing it */
  const objects = new Map();
  for (const m of listOf(md, 'mappings'))
    objects.set(objectIdOf(m.target), [...(objects.get(objectIdOf(m.target)) ?? []), m.name]);
  const objectId = route.params.objectId ?? [...objects.keys()][0];
  const status = ['inactive', 'removed'].includes(route.query.get('status') ?? '')
    ? route.query.get('status')
    : 'active';
  const removed = status === 'removed';
  const head = pageHeader(
    'Records',
    null,
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
  const host = h('div');
  const count = h('p', { class: 'muted small', role: 'status' });
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
    count.textContent = `${all.length} ${status} ${all.length === 1 ? 'record' : 'records'}${data?.nextPageToken ? ' so far' : ''}`;
    replace(
      host,
      all.length
        ? table(
            `${status} records in ${objectId}`,
            [
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
                // Ids are URL-encoded identifier values (an email, a serial number): show them readable.
                h('td', null, h('code', null, decodeURIComponent(r.id))),
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
  el.append(head, h('section', { class: 'card' }, toolbar, count, host));
  return `Records · ${objectId}`;
}
