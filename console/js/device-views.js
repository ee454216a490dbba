// A synced record's detail page (with the device actions for Chrome OS and mobile devices), and the history of
// device actions taken from this console or the API.
import { get, listOf, tenantPath } from './api.js';
import { badge, button, card, cellValue, entityLabel, h, pageHeader, replace, table, time } from './dom.js';
import { loadTenant } from './shell.js';
import {
  actionBar,
  actionLabel,
  DEPROVISION_REASONS,
  deviceEntityOf,
  deviceOfRecord,
  pollUntilChanged,
  resultList,
} from './devices.js';
import { writeBackForm } from './write-back.js';
import { recordDetailCards } from './records.js';

const dl = (rows) =>
  h(
    'dl',
    { class: 'props' },
    rows.filter(Boolean).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v ?? '—'))),
  );

const recordsHref = (t, objectId) => `#/t/${t}/records/${encodeURIComponent(objectId)}`;
export const recordHref = (t, objectId, recordId) =>
  `${recordsHref(t, objectId)}/${encodeURIComponent(recordId)}`;
const historyHref = (t) => `#/t/${t}/devices/actions`;

/** A record as the API answers it: {recordId, data, sync}. */
const normalize = (d) => ({ id: d.recordId ?? d.id, data: d.data ?? {}, sync: d.sync ?? d._sync ?? {} });

/** @type {import('./router.js').View} */
export async function renderRecord(route, el) {
  const t = route.params.t ?? '';
  const objectId = route.params.objectId ?? '';
  const recordId = route.params.recordId ?? '';
  const path = tenantPath(
    t,
    `/objects/${encodeURIComponent(objectId)}/records/${encodeURIComponent(recordId)}`,
  );
  const [tenant, md, first] = await Promise.all([loadTenant(t), get(tenantPath(t, '/mappings')), get(path)]);
  let record = normalize(first);
  const entity = record.sync.entity ?? deviceEntityOf(listOf(md, 'mappings'), objectId);
  const isDevice = entity === 'chromeos' || entity === 'mobile';
  const device = isDevice ? deviceOfRecord(record.id, record.sync) : null;
  const name = decodeURIComponent(record.id);
  const here = location.hash;

  const statusHost = h('div');
  const fieldsHost = h('div');
  const draw = () => {
    const s = record.sync;
    replace(
      statusHost,
      dl([
        [
          'Status',
          [
            badge(s.status ?? 'active'),
            s.inactiveReason &&
              h('span', { class: 'muted small', 'data-reason': s.inactiveReason }, ` ${s.inactiveReason}`),
          ],
        ],
        s.status === 'removed' && [
          'Removed',
          [time(s.removedAt), s.removedReason && ` · ${s.removedReason}`],
        ],
        ['Entity', entityLabel(s.entity ?? entity)],
        s.identifier && [`Identified by ${s.identifier.field}`, h('code', null, String(s.identifier.value))],
        s.sourceId && ['Google ID', h('code', null, s.sourceId)],
        ['Last written', time(s.updatedAt)],
        s.mappingId && [
          'Mapping',
          h('a', { href: `#/t/${t}/mappings/${encodeURIComponent(s.mappingId)}` }, s.mappingId),
        ],
        s.runId && ['Sync run', h('code', null, s.runId)],
      ]),
    );
    const keys = Object.keys(record.data);
    replace(
      fieldsHost,
      keys.length
        ? dl(keys.map((k) => [k, cellValue(record.data[k])]))
        : h('p', { class: 'muted' }, 'This record has no fields.'),
    );
  };
  draw();

  const refresh = h('p', { class: 'hint', role: 'status' });
  const onDone = async (action) => {
    if (!action?.succeeded) return;
    const before = `${record.sync.updatedAt}|${record.sync.runId}`;
    refresh.textContent = 'Refreshing this device from Google Workspace…';
    await pollUntilChanged(
      async () => {
        record = normalize(await get(path));
        draw();
        return `${record.sync.updatedAt}|${record.sync.runId}` !== before;
      },
      () => location.hash === here,
    );
    refresh.textContent = `Status as of ${new Date().toLocaleTimeString()}.`;
  };

  const actions =
    device && actionBar({ t, tenant, entity, devices: () => [device], onDone: (a) => void onDone(a) });
  const mapping = listOf(md, 'mappings').find((m) => m.id === record.sync.mappingId);
  const writeBack =
    device &&
    record.sync.status !== 'removed' &&
    writeBackForm({
      t,
      tenant,
      objectId,
      recordId,
      mapping,
      values: () => record.data,
      // Google's answer is already in the record when the API answers: one read shows it.
      onWritten: async () => {
        record = normalize(await get(path));
        draw();
      },
    });

  el.append(
    h('p', { class: 'crumbs' }, h('a', { href: recordsHref(t, objectId) }, `Records · ${objectId}`)),
    pageHeader(
      name,
      isDevice ? h('a', { class: 'btn', href: historyHref(t) }, 'Action history') : null,
      isDevice ? entityLabel(entity).replace(/s$/, '') : `Record in ${objectId}`,
    ),
    h(
      'div',
      { class: 'grid-2' },
      h('div', null, card('Sync status', [statusHost, refresh]), actions && card('Actions', actions)),
      h('div', null, card('Fields', fieldsHost), writeBack && card('Write back to Google', writeBack)),
    ),
    // Provenance, the last changes of each field and, for merged people, each field's source (records.js).
    (({ provenance, history, people }) =>
      h('div', { class: 'grid-2' }, h('div', null, provenance, people), h('div', null, history)))(
      recordDetailCards(t, first),
    ),
  );
  return name;
}

const deviceCount = (a) => {
  const n = a.deviceIds?.length ?? 0;
  return `${n} ${n === 1 ? 'device' : 'devices'}`;
};
const outcome = (a) => [
  a.failed ? badge(a.succeeded ? 'partly' : 'failed') : badge('succeeded'),
  h('span', { class: 'muted small' }, ` ${a.succeeded ?? 0} succeeded, ${a.failed ?? 0} failed`),
];

/** @type {import('./router.js').View} */
export async function renderActionHistory(route, el) {
  const t = route.params.t ?? '';
  await loadTenant(t);
  /** @type {any[]} */
  const all = [];
  const host = h('div');
  const load = async (after) => {
    const qs = new URLSearchParams({ limit: '25', ...(after && { after }) });
    const data = await get(tenantPath(t, `/devices/actions?${qs}`));
    all.push(...listOf(data, 'actions'));
    replace(
      host,
      all.length
        ? table(
            'Device actions',
            ['When', 'Who', 'Action', 'Devices', 'Result'],
            all.map((a) =>
              h(
                'tr',
                { 'data-action-id': a.id },
                h(
                  'td',
                  null,
                  h('a', { href: `${historyHref(t)}/${encodeURIComponent(a.id)}` }, time(a.requestedAt)),
                ),
                h('td', { class: 'wrap' }, a.requestedBy ?? '—'),
                h(
                  'td',
                  null,
                  `${actionLabel(a.action)}`,
                  h('div', { class: 'muted small' }, entityLabel(a.entity)),
                ),
                h('td', null, deviceCount(a)),
                h('td', null, outcome(a)),
              ),
            ),
          )
        : h(
            'p',
            { class: 'muted' },
            'No device actions yet. Owners and admins act on devices from their records.',
          ),
      data?.next &&
        h(
          'p',
          { class: 'more' },
          button('Load more', { onclick: (e) => ((e.currentTarget.disabled = true), load(data.next)) }),
        ),
    );
  };
  await load();
  el.append(
    pageHeader(
      'Device actions',
      null,
      'Every action taken on Chrome OS and mobile devices: who asked, when, and what Google answered for each device.',
    ),
    h('section', { class: 'card' }, host),
  );
  return 'Device actions';
}

/** @type {import('./router.js').View} */
export async function renderAction(route, el) {
  const t = route.params.t ?? '';
  const id = route.params.actionId ?? '';
  const [, d] = await Promise.all([
    loadTenant(t),
    get(tenantPath(t, `/devices/actions/${encodeURIComponent(id)}`)),
  ]);
  const a = d?.action ?? d;
  const reason = DEPROVISION_REASONS.find(([v]) => v === a.deprovisionReason)?.[1] ?? a.deprovisionReason;
  const title = `${actionLabel(a.action)} · ${deviceCount(a)}`;
  el.append(
    h('p', { class: 'crumbs' }, h('a', { href: historyHref(t) }, 'Device actions')),
    pageHeader(title, null, entityLabel(a.entity)),
    h(
      'div',
      { class: 'grid-2' },
      h(
        'div',
        null,
        card(
          'Request',
          dl([
            ['Action', `${actionLabel(a.action)} (${a.action})`],
            ['Requested by', a.requestedBy],
            ['When', time(a.requestedAt)],
            a.deprovisionReason && ['Reason', reason],
            a.orgUnitId && ['Org unit', h('code', null, a.orgUnitId)],
            ['Outcome', outcome(a)],
            a.idempotencyKey && ['Idempotency key', h('code', null, a.idempotencyKey)],
            ['Action ID', h('code', null, a.id)],
          ]),
        ),
      ),
      h('div', null, card('Each device', resultList(a.results ?? []))),
    ),
  );
  return title;
}
