// Tenant overview: the Google Workspace connection, the schedule and the mappings at a glance.
import { get, listOf, post, tenantPath } from './api.js';
import { reviewHref } from './removal-review.js';
import { progressBar } from './runs.js';
import {
  append,
  badge,
  busy,
  button,
  card,
  confirmDialog,
  mappingEntityLabel,
  h,
  pageHeader,
  replace,
  table,
  time,
  timeIn,
} from './dom.js';
import { connectButton, loadTenant, notify, showError } from './shell.js';
import { connectionOptionsCard } from './connection.js';
import { startSync } from './runs.js';

const SCOPES = {
  user: 'Users',
  orgunit: 'Org units',
  'device.chromeos': 'Chrome OS devices',
  'device.mobile': 'Mobile devices',
  'device.mobile.action': 'Mobile device actions',
  group: 'Groups',
  customer: 'Customer details',
};

const dl = (rows) =>
  h(
    'dl',
    { class: 'props' },
    rows.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v || '—'))),
  );

/** @type {import('./router.js').View} */
export async function renderOverview(route, el) {
  const t = route.params.t ?? '';
  const tenant = await loadTenant(t, true);
  const conn = tenant.connection ?? {};
  const status = tenant.status;
  const mappings = tenant.mappings ?? [];
  const result = h('div', { role: 'status' });

  const test = button('Test connection', {
    onclick: (e) =>
      busy(e.currentTarget, async () => {
        replace(result, h('p', { class: 'muted' }, 'Testing the connection…'));
        try {
          const r = await post(tenantPath(t, '/connection/test'));
          replace(
            result,
            r.ok
              ? h(
                  'p',
                  { class: 'ok' },
                  `Connection works: Google Workspace answered for ${r.domain} (customer ${r.customerId}).`,
                )
              : h('p', { class: 'bad' }, `Connection failed: ${r.reason}`),
          );
          if (r.needsReauthorization) {
            // The tenant's status changed: redraw the page so the status and actions match the banner.
            el.replaceChildren();
            await renderOverview(route, el);
            notify(`Connection failed: ${r.reason}`, 'bad');
          }
        } catch (err) {
          result.replaceChildren();
          showError(err, 'The connection test could not run');
        }
      }),
  });

  const revoke = button('Revoke access', {
    class: 'btn btn-danger-outline',
    'data-needs': 'write',
    onclick: async (e) => {
      const btn = e.currentTarget;
      const ok = await confirmDialog({
        title: 'Revoke access to Google Workspace?',
        message: [
          h(
            'p',
            null,
            `Workspace Sync gives up its authorization for ${conn.domain ?? 'this Google Workspace'} and stops syncing this tenant. Records already synced stay as they are.`,
          ),
          h(
            'p',
            null,
            'You can connect again later; a Google Workspace admin will have to approve access again.',
          ),
        ],
        confirm: 'Revoke access',
        danger: true,
      });
      if (ok)
        await busy(btn, async () => {
          try {
            await post(tenantPath(t, '/connection/revoke'));
            el.replaceChildren();
            await renderOverview(route, el);
            notify('Access was revoked. Syncing is paused until you connect again.');
          } catch (err) {
            showError(err, 'Access could not be revoked');
          }
        });
    },
  });

  // Device management widens the connection through Google's consent (owners and admins only); the callback
  // lands back here with ?deviceManagement=on|off or an error.
  const devicesOn = conn.deviceManagement?.enabled === true;
  const canManage = tenant.role === 'owner' || tenant.role === 'admin';
  const devices = button(devicesOn ? 'Turn off device management' : 'Turn on device management', {
    class: 'btn',
    'data-needs': 'write',
    onclick: (e) =>
      busy(e.currentTarget, async () => {
        try {
          const r = await post(tenantPath(t, '/connection/device-management'), { enabled: !devicesOn });
          location.assign(r.authorizationUrl);
        } catch (err) {
          showError(err, 'Could not start the Google consent for device management');
        }
      }),
  });

  const actions =
    status === 'active'
      ? [test, ...(canManage ? [devices] : []), revoke]
      : status === 'needs_reauth'
        ? [connectButton('Reconnect'), revoke]
        : [connectButton(status === 'paused' ? 'Connect again' : 'Connect Google Workspace')];

  const scopes = (conn.scopes ?? []).map((s) => {
    const short = s.replace(/^.*\/auth\/(admin\.directory\.)?/, '').replace('.readonly', '');
    const manage = !s.endsWith('.readonly') && !short.endsWith('.action');
    return h('li', { title: s }, `${SCOPES[short] ?? short}${manage ? ' (manage)' : ''}`);
  });

  const connection = card(
    'Google Workspace connection',
    [
      status === 'pending'
        ? h(
            'p',
            null,
            'A Google Workspace admin signs in and approves read-only access to users, groups, org units and devices. Nothing is ever written to Google Workspace.',
          )
        : dl(
            [
              ['Status', badge(status)],
              ['Domain', conn.domain],
              ['Customer ID', conn.customerId && h('code', null, conn.customerId)],
              ['Authorized by', conn.adminEmail],
              [
                'Connected',
                conn.connectedAt && [time(conn.connectedAt), conn.connectedBy && ` by ${conn.connectedBy}`],
              ],
              conn.revokedAt
                ? ['Revoked', [time(conn.revokedAt), conn.revokedBy && ` by ${conn.revokedBy}`]]
                : null,
              ['Access', scopes.length && h('ul', { class: 'chips' }, scopes)],
              ['Device management', devicesOn ? 'On' : 'Off'],
            ].filter(Boolean),
          ),
      result,
      status !== 'pending' &&
        h('p', { class: 'small' }, h('a', { href: `#/t/${t}/devices/actions` }, 'Device action history')),
    ],
    actions,
  );

  const entra = entraCard(route, el, tenant);
  const more = connectionOptionsCard(t, tenant);

  // The tenant's own schedule, described in words by the API (cronstrue on the server: no build step here).
  const s = tenant.schedule;
  const schedule = card(
    'Schedule',
    dl([
      ['Runs', s ? (s.description ?? s.cron) : 'Not scheduled'],
      ['Time zone', s?.timeZone],
      ['Next run', status === 'active' ? timeIn(s?.nextRunAt, s?.timeZone) : 'Not while disconnected'],
    ]),
    [
      button('Sync now', {
        class: 'btn btn-primary',
        id: 'overview-sync-now',
        'data-needs': 'write',
        disabled: status !== 'active' || !mappings.some((m) => m.enabled),
        title:
          status !== 'active'
            ? 'Connect Google Workspace first'
            : mappings.some((m) => m.enabled)
              ? 'Sync every enabled mapping now'
              : 'No mapping is enabled',
        onclick: (e) => startSync(t, e.currentTarget),
      }),
      h('a', { class: 'btn', href: `#/t/${t}/settings`, 'data-needs': 'owner' }, 'Change schedule'),
    ],
  );

  const list = card(
    'Mappings',
    mappings.length
      ? table(
          'Mappings',
          ['Name', 'Last run'],
          mappings.map((m) => [
            [
              h('a', { href: `#/t/${t}/mappings/${m.id}` }, m.name),
              h('div', { class: 'muted small' }, mappingEntityLabel(m)),
            ],
            m.lastRun
              ? [
                  badge(m.lastRun.status),
                  h('div', { class: 'muted small' }, time(m.lastRun.finishedAt ?? m.lastRun.startedAt)),
                  m.lastRun.status === 'held' &&
                    !m.lastRun.review &&
                    h(
                      'div',
                      { class: 'small' },
                      `${m.lastRun.removal?.candidates ?? ''} records held for removal · `,
                      h('a', { href: reviewHref(t, m.lastRun.runId) }, 'Review them'),
                    ),
                ]
              : 'Never',
          ]),
        )
      : h('p', { class: 'muted' }, 'No mappings yet. A mapping chooses what to sync and where it goes.'),
    h('a', { class: 'btn', href: `#/t/${t}/mappings/new`, 'data-needs': 'write' }, 'New mapping'),
  );

  const done = (d, title, text) =>
    h(
      'li',
      { class: d && 'done' },
      h('strong', null, title),
      ` ${text}`,
      d && h('span', { class: 'visually-hidden' }, ' (done)'),
    );

  append(el, [
    pageHeader(tenant.name || t, null, [`${t} `, badge(status)]),
    (status === 'pending' || !mappings.length) &&
      card(
        'Get started',
        h(
          'ol',
          { class: 'steps' },
          done(
            status !== 'pending',
            'Connect Google Workspace.',
            'A Google Workspace admin approves read-only access.',
          ),
          done(
            mappings.length > 0,
            'Create a mapping.',
            'Choose an entity, its unique identifier and the fields to copy.',
          ),
          done(false, 'Sync.', 'Run the first sync now; after that it runs on the schedule.'),
        ),
      ),
    h(
      'div',
      { class: 'grid-2' },
      h('div', null, connection, more, entra),
      h('div', null, syncingCard(t), schedule, list),
    ),
  ]);
  return tenant.name || t;
}

/** Microsoft Entra (optional): a Global Administrator grants admin consent; shown only when the service offers it. */
function entraCard(route, el, tenant) {
  const t = tenant.tenantId;
  const e = tenant.entra;
  if (!tenant.entraAvailable && !e) return null;
  const connect = button(e ? 'Connect again' : 'Connect Microsoft Entra', {
    class: e?.state === 'connected' ? 'btn' : 'btn btn-primary',
    'data-needs': 'write',
    onclick: (ev) =>
      busy(ev.currentTarget, async () => {
        try {
          const r = await post(tenantPath(t, '/entra/authorize'));
          location.assign(r.authorizationUrl);
        } catch (err) {
          showError(err, 'Could not start connecting Microsoft Entra');
        }
      }),
  });
  const disconnect = button('Disconnect', {
    class: 'btn btn-danger-outline',
    'data-needs': 'write',
    onclick: async (ev) => {
      const btn = ev.currentTarget;
      const ok = await confirmDialog({
        title: 'Disconnect Microsoft Entra?',
        message: h(
          'p',
          null,
          'Workspace Sync deletes its stored credentials and stops syncing people from this Entra directory. People already synced stay as they are.',
        ),
        confirm: 'Disconnect',
        danger: true,
      });
      if (ok)
        await busy(btn, async () => {
          try {
            await post(tenantPath(t, '/entra/disconnect'));
            el.replaceChildren();
            await renderOverview(route, el);
            notify('Microsoft Entra was disconnected.');
          } catch (err) {
            showError(err, 'Microsoft Entra could not be disconnected');
          }
        });
    },
  });
  return card(
    'Microsoft Entra (optional)',
    e
      ? dl(
          [
            ['Status', badge(e.state === 'connected' ? 'entra_connected' : e.state)],
            ['Directory ID', e.tenantId && h('code', null, e.tenantId)],
            ['Connected', e.connectedAt && [time(e.connectedAt), e.connectedBy && ` by ${e.connectedBy}`]],
            e.state !== 'connected' && e.stateReason ? ['Reason', e.stateReason] : null,
          ].filter(Boolean),
        )
      : h(
          'p',
          null,
          'Also sync people from Microsoft Entra ID: a Global Administrator grants read-only admin consent.',
        ),
    !tenant.entraAvailable ? null : e && e.state !== 'disconnected' ? [connect, disconnect] : [connect],
  );
}

const SYNCING_POLL_MS = 3000;

/**
 * "Syncing now": every running run of the tenant with its progress (whoever started it), polled from the runs
 * API while the overview is shown; hidden when nothing runs.
 */
function syncingCard(t) {
  const list = h('ul', { class: 'progress-list' });
  const section = card('Syncing now', [
    list,
    h('p', { class: 'small' }, h('a', { href: `#/t/${t}/runs` }, 'All sync runs')),
  ]);
  section.id = 'syncing-now';
  section.hidden = true;
  const draw = (runs) => {
    const running = runs.filter((r) => r.status === 'running');
    section.hidden = running.length === 0;
    replace(
      list,
      running.map((r) => {
        const id = `syncing-${r.runId}`;
        return h(
          'li',
          { class: 'progress-item', 'data-run-id': r.runId },
          h('div', { class: 'actions' }, h('strong', { id }, r.mappingName ?? r.mappingId), badge(r.status)),
          progressBar(r, id),
        );
      }),
    );
  };
  const started = Date.now();
  let shown = false;
  const tick = async () => {
    if (!section.isConnected) {
      // Not on the page (yet, or any more): stop once it has been shown, or if it never is.
      if (shown || Date.now() - started > 60_000) return;
    } else {
      shown = true;
      try {
        if (document.visibilityState === 'visible')
          draw(listOf(await get(tenantPath(t, '/runs?limit=10')), 'runs'));
      } catch {
        // Progress is a courtesy here: the next round asks again.
      }
    }
    setTimeout(() => void tick(), SYNCING_POLL_MS);
  };
  setTimeout(() => void tick(), 0);
  return section;
}
