// The records a sync wrote into one object: search (identifier prefix) and filter (a field's value, status),
// totals, CSV export, and the detail cards (provenance, history, merged people by source) of one record.
import { get, listOf, tenantPath } from './api.js';
import {
  badge,
  busy,
  button,
  card,
  cellValue,
  fmtNum,
  h,
  objectIdOf,
  pageHeader,
  replace,
  sourceLabel,
  table,
  time,
  uid,
} from './dom.js';
import { showError } from './shell.js';
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
  // Search: a prefix of the identifier (q), or one field's exact value (field + value); both are in the URL.
  const q = route.query.get('q') ?? '';
  const field = route.query.get('field') ?? '';
  const value = route.query.get('value') ?? '';
  const mappingsOfObject = listOf(md, 'mappings').filter((m) => objectIdOf(m.target) === objectId);
  const fieldNames = [
    ...new Set(
      mappingsOfObject
        .flatMap((m) => (m.fieldMap ?? []).map((f) => f.target))
        .concat(objectId === 'people' ? ['email'] : []),
    ),
  ].sort();
  const filterParams = () => ({
    status,
    ...(q && { q }),
    ...(field && value !== '' && { field, value }),
  });
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
  /** Navigates to the listing with these choices (the URL holds them, so a search can be shared). */
  const go = (o, s, search = { q, field, value }) => {
    const qs = new URLSearchParams({
      ...(s !== 'active' && { status: s }),
      ...(search.q && { q: search.q }),
      ...(search.field && search.value !== '' && { field: search.field, value: search.value }),
    }).toString();
    navigate(`/t/${t}/records/${encodeURIComponent(o)}${qs ? `?${qs}` : ''}`);
  };

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
        { id: sel, onchange: (e) => go(e.target.value, status, { q: '', field: '', value: '' }) },
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
          h('input', {
            type: 'radio',
            name: 'show',
            checked: s === status,
            onchange: () => go(objectId, s, { q: '', field: '', value: '' }),
          }),
          h('span', null, s[0]?.toUpperCase() + s.slice(1)),
        ),
      ),
    ),
  );

  const qId = uid('q');
  const fieldId = uid('field');
  const valueId = uid('value');
  const search = h(
    'form',
    {
      class: 'toolbar search',
      role: 'search',
      'aria-label': 'Search records',
      onsubmit: (e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const byField = String(form.get('field') ?? '');
        go(objectId, status, {
          q: byField ? '' : String(form.get('q') ?? '').trim(),
          field: byField,
          value: byField ? String(form.get('value') ?? '') : '',
        });
      },
    },
    h(
      'div',
      { class: 'filter' },
      h('label', { for: qId }, 'Identifier starts with'),
      h('input', { id: qId, name: 'q', type: 'search', value: q, autocomplete: 'off', spellcheck: 'false' }),
    ),
    h(
      'div',
      { class: 'filter' },
      h('label', { for: fieldId }, 'or field'),
      h(
        'select',
        { id: fieldId, name: 'field' },
        h('option', { value: '' }, '—'),
        fieldNames.map((f) => h('option', { value: f, selected: f === field }, f)),
      ),
      h('label', { for: valueId }, 'equals'),
      h('input', { id: valueId, name: 'value', value, autocomplete: 'off' }),
    ),
    h(
      'div',
      { class: 'actions' },
      button('Search', { type: 'submit', class: 'btn btn-primary' }),
      (q || field) &&
        button('Clear', { onclick: () => go(objectId, status, { q: '', field: '', value: '' }) }),
      button('Export CSV', {
        onclick: (e) => busy(e.currentTarget, () => downloadCsv(t, objectId, filterParams())),
      }),
    ),
    h(
      'p',
      { class: 'hint small' },
      'The identifier search matches the start of the value, case as stored (an email, a serial number); a field matches its whole value. Firestore has no full-text search.',
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
  /** @type {number | null} */
  let total = null;
  const load = async (pageToken) => {
    const qs = new URLSearchParams({
      ...filterParams(),
      limit: '50',
      ...(pageToken && { pageToken }),
    });
    const data = await get(tenantPath(t, `/objects/${encodeURIComponent(objectId)}/records?${qs}`));
    // Records come as {recordId, data, sync} (or {id, ...fields, _sync}).
    all.push(
      ...listOf(data, 'records').map(
        ({ id, recordId, objectId: _o, data: d, sync, _sync, fieldSources, ...rest }) => ({
          id: id ?? recordId,
          data: d ?? rest,
          sync: sync ?? _sync ?? {},
          sources: fieldSources ?? null,
        }),
      ),
    );
    if (typeof data?.total === 'number') total = data.total;
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
    const searching = q || field;
    count.textContent =
      total === null
        ? `${all.length} ${status} ${all.length === 1 ? 'record' : 'records'}`
        : `Showing ${fmtNum(all.length)} of ${fmtNum(total)} ${status} ${total === 1 ? 'record' : 'records'}${searching ? ' matching the search' : ''}`;
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
                cols.map((c) =>
                  h(
                    'td',
                    null,
                    cellValue(r.data[c]),
                    // Merged people: each value says which source it came from.
                    r.sources?.[c] &&
                      h(
                        'span',
                        { class: 'source-tag', title: `from ${sourceLabel(r.sources[c])}` },
                        sourceLabel(r.sources[c]),
                      ),
                  ),
                ),
              ),
            ),
          )
        : h(
            'p',
            { class: 'muted' },
            q || field
              ? 'No record matches this search.'
              : removed
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
  const totalsLine = h('p', { class: 'muted small totals', 'aria-live': 'polite' });
  void get(tenantPath(t, `/objects/${encodeURIComponent(objectId)}/record-totals`))
    .then((tt) => {
      totalsLine.textContent = `In ${objectId}: ${fmtNum(tt.active)} active · ${fmtNum(tt.inactive)} inactive · ${fmtNum(tt.removed)} removed · ${fmtNum(tt.total)} in all`;
    })
    .catch(() => undefined);
  await load();
  el.append(
    head,
    h(
      'section',
      { class: 'card' },
      toolbar,
      search,
      totalsLine,
      bar &&
        h('div', { class: 'bulk', role: 'group', 'aria-label': 'Act on the selected devices' }, picked, bar),
      count,
      host,
    ),
  );
  return `Records · ${objectId}`;
}

/**
 * Downloads the records matching the filter as CSV: the API answers pages of up to 1,000 rows, the header row on
 * the first, `X-Next-Page-Token` naming the next; they are joined into one file here.
 */
async function downloadCsv(t, objectId, params) {
  const parts = [];
  let pageToken = null;
  try {
    // Bounded: 1,000 pages of 1,000 rows is far beyond any tenant's object.
    for (let i = 0; i < 1000; i++) {
      const qs = new URLSearchParams({ ...params, ...(pageToken && { pageToken }) });
      const res = await fetch(tenantPath(t, `/objects/${encodeURIComponent(objectId)}/records.csv?${qs}`), {
        // The session cookie signs it in; the header is the console's CSRF mark (api.js).
        headers: { 'x-requested-with': 'workspace-sync' },
        credentials: 'same-origin',
      });
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        throw new Error(body?.error?.message ?? `The export failed (HTTP ${res.status}).`);
      }
      parts.push(await res.text());
      pageToken = res.headers.get('x-next-page-token');
      if (!pageToken) break;
    }
    const url = URL.createObjectURL(new Blob(parts, { type: 'text/csv;charset=utf-8' }));
    const a = h('a', { href: url, download: `${objectId}-records.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    showError(err, 'The records could not be exported');
  }
}

const shown = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

/**
 * The detail cards of one record (GET .../records/:id): where it came from (source, mapping, run, Directory id),
 * the last changes of each field, and for merged people every field with the source it came from.
 */
export function recordDetailCards(t, detail) {
  const p = detail.provenance ?? {};
  const dl = (rows) =>
    h(
      'dl',
      { class: 'props' },
      rows.filter(Boolean).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v ?? '—'))),
    );
  const provenance = card(
    'Provenance',
    dl([
      [
        'Source',
        p.source === 'people' ? 'Merged people (Google Workspace + Microsoft Entra)' : sourceLabel(p.source),
      ],
      p.mapping && [
        'Mapping',
        h(
          'a',
          { href: `#/t/${t}/mappings/${encodeURIComponent(p.mapping.id)}` },
          p.mapping.name ?? p.mapping.id,
        ),
      ],
      p.runId && ['Written by run', h('a', { href: `#/t/${t}/runs` }, h('code', null, p.runId))],
      p.directoryId && ['Directory ID', h('code', null, p.directoryId)],
      p.identifier && [`Identifier (${p.identifier.field})`, h('code', null, String(p.identifier.value))],
      ['Last written', time(p.updatedAt)],
    ]),
  );
  provenance.id = 'provenance';

  const byField = detail.fieldHistory ?? {};
  const fieldsChanged = Object.keys(byField).sort();
  const history = card(
    'Last changes',
    fieldsChanged.length
      ? [
          table(
            'Last changes of each field',
            ['Field', 'Changed', 'From', 'To', 'By'],
            fieldsChanged.flatMap((f) =>
              byField[f]
                .slice(0, 5)
                .map((c, i) => [
                  i === 0 ? h('strong', null, f) : '',
                  time(c.at),
                  shown(c.from),
                  shown(c.to),
                  c.source === 'write-back' ? 'Write-back' : h('code', { class: 'small' }, c.runId ?? '—'),
                ]),
            ),
          ),
          h(
            'ul',
            { class: 'history-list small' },
            (detail.history ?? []).map((e) =>
              h(
                'li',
                null,
                time(e.at),
                ` · ${e.kind}`,
                e.reason && ` (${e.reason})`,
                e.changes?.length ? ` · ${e.changes.map((c) => c.field).join(', ')}` : '',
              ),
            ),
          ),
          h('p', { class: 'hint small' }, 'The last 20 changes of this record are kept.'),
        ]
      : h('p', { class: 'muted' }, 'No changes recorded yet.'),
  );
  history.id = 'record-history';

  const people = detail.people;
  const peopleCard =
    people &&
    card('Fields by source', [
      table(
        'Merged fields and the source each came from',
        ['Field', 'Value', 'From'],
        people.fields.map((f) => [f.name, cellValue(f.value), f.source ? sourceLabel(f.source) : '—']),
      ),
      dl(
        Object.entries(people.sources ?? {}).map(([source, s]) => [
          sourceLabel(source),
          [
            s.directoryId ? h('code', null, s.directoryId) : '—',
            s.removedAt
              ? [' · removed ', time(s.removedAt)]
              : s.active === false
                ? ' · inactive'
                : ' · active',
          ],
        ]),
      ),
    ]);
  if (peopleCard) peopleCard.id = 'people-sources';
  return { provenance, history, people: peopleCard };
}
