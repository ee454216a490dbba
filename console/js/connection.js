// Connection options on the overview: how Google Workspace is connected (the service's OAuth client, the
// tenant's own OAuth client, or a service account with domain-wide delegation), the credential's health, and
// what the authorizing admin can read. Secrets are write-only: the form sends them and never shows them again.
import { get, post, request, tenantPath } from './api.js';
import { busy, button, card, h, replace, time } from './dom.js';
import { notify, showError } from './shell.js';

const MODES = {
  service_client: "Workspace Sync's OAuth client",
  tenant_client: 'Your own OAuth client',
  service_account: 'Service account with domain-wide delegation',
};
const ENTITIES = {
  users: 'Users',
  orgunits: 'Org units',
  groups: 'Groups',
  chromeos: 'Chrome OS devices',
  mobile: 'Mobile devices',
};
const ADMIN_STATUS = {
  active: 'Active administrator',
  suspended: 'Suspended',
  not_admin: 'No longer an administrator',
  deleted: 'Deleted',
  unknown: 'Unknown',
};

const field = (label, input, hint) =>
  h(
    'label',
    { class: 'field' },
    h('span', null, label),
    input,
    hint && h('span', { class: 'muted small' }, hint),
  );

const props = (rows) =>
  h(
    'dl',
    { class: 'props' },
    rows.filter(Boolean).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v || '—'))),
  );

/** Sends the browser to Google's consent for the chosen client. */
async function authorizeWith(t, oauthClient) {
  const r = await post(tenantPath(t, '/connection/authorize'), { oauthClient });
  location.assign(r.authorizationUrl);
}

const HEALTH = {
  healthy: ['ok', 'Working'],
  failing: ['bad', 'Not working'],
  not_connected: ['neutral', 'Not connected'],
};
const healthBadge = (state) => {
  const [tone, label] = HEALTH[state] ?? ['neutral', state];
  return h('span', { class: `badge t-${tone}`, 'data-status': state }, label);
};

function healthView(health) {
  if (!health)
    return h('p', { class: 'muted' }, 'Not checked yet: the credential is checked a few times a day.');
  return props([
    ['State', healthBadge(health.state)],
    ['Checked', time(health.checkedAt)],
    [
      'Authorizing admin',
      health.admin?.email &&
        `${health.admin.email} (${ADMIN_STATUS[health.admin.status] ?? health.admin.status})`,
    ],
    health.reason ? ['Problem', h('span', { class: 'bad' }, health.reason)] : null,
    health.failingSince ? ['Failing since', time(health.failingSince)] : null,
  ]);
}

function accessView(access) {
  return h(
    'ul',
    { class: 'access-list' },
    access.map((a) =>
      h(
        'li',
        null,
        h('strong', null, ENTITIES[a.entity] ?? a.entity),
        a.permitted === true
          ? h('span', { class: 'ok' }, ' can be read')
          : a.permitted === false
            ? h('span', { class: 'bad' }, ` not permitted: missing ${a.missingPrivilege ?? 'a privilege'}`)
            : h('span', { class: 'muted' }, ' not checked yet (Test connection checks it)'),
      ),
    ),
  );
}

function tenantClientForm(t, s, rerender) {
  const clientId = h('input', {
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    value: s.tenantClient?.clientId ?? '',
  });
  const clientSecret = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    placeholder: s.tenantClient ? 'Saved (enter a new one to replace it)' : '',
  });
  const result = h('div', { role: 'status' });
  const save = button('Test and save', {
    class: 'btn btn-primary',
    onclick: (e) =>
      busy(e.currentTarget, async () => {
        result.replaceChildren();
        try {
          const r = (
            await request('PUT', tenantPath(t, '/connection/oauth-client'), {
              body: { clientId: clientId.value.trim(), clientSecret: clientSecret.value },
            })
          ).data;
          clientSecret.value = '';
          notify(
            r.reconnectNeeded
              ? 'Google accepted the new client. Authorize again with it to resume syncing.'
              : 'Google accepted the client. Authorize with it to switch the connection over.',
          );
          await rerender();
        } catch (err) {
          clientSecret.value = '';
          replace(result, h('p', { class: 'bad' }, err.message));
        }
      }),
  });
  return h(
    'div',
    { class: 'stack' },
    h('h3', null, 'Your own OAuth client'),
    h(
      'p',
      { class: 'small' },
      'In your Google Cloud console, open APIs & Services > Credentials, create an OAuth client ID of type "Web application", and add this exact Authorized redirect URI:',
    ),
    h('p', null, h('code', { class: 'copyable' }, s.redirectUri)),
    field('Client ID', clientId),
    field('Client secret', clientSecret, 'Stored in Secret Manager only; it is never shown again.'),
    result,
    h(
      'div',
      { class: 'actions' },
      save,
      s.tenantClient &&
        button('Authorize with your client', {
          onclick: (e) =>
            busy(e.currentTarget, () =>
              authorizeWith(t, 'tenant').catch((err) => showError(err, 'Could not start the authorization')),
            ),
        }),
      s.mode === 'tenant_client' &&
        button("Switch to Workspace Sync's client", {
          onclick: (e) =>
            busy(e.currentTarget, () =>
              authorizeWith(t, 'service').catch((err) => showError(err, 'Could not start the authorization')),
            ),
        }),
    ),
  );
}

function serviceAccountForm(t, s, rerender) {
  const file = h('input', { type: 'file', accept: 'application/json,.json' });
  const subject = h('input', { type: 'email', autocomplete: 'off', value: s.serviceAccount?.subject ?? '' });
  const result = h('div', { role: 'status' });
  const upload = button(s.serviceAccount ? 'Test and save (rotate key)' : 'Test and connect', {
    class: 'btn btn-primary',
    onclick: (e) =>
      busy(e.currentTarget, async () => {
        result.replaceChildren();
        const picked = file.files?.[0];
        if (!picked) return replace(result, h('p', { class: 'bad' }, 'Choose the JSON key file first.'));
        try {
          await post(tenantPath(t, '/connection/service-account'), {
            key: await picked.text(),
            subject: subject.value.trim(),
          });
          file.value = '';
          notify('Google accepted the service account; syncing with it now.');
          await rerender();
        } catch (err) {
          file.value = '';
          replace(result, h('p', { class: 'bad' }, err.message));
        }
      }),
  });
  const sa = s.serviceAccount;
  return h(
    'div',
    { class: 'stack' },
    h('h3', null, 'Service account with domain-wide delegation'),
    sa &&
      props([
        ['Service account', sa.clientEmail],
        ['Client ID', h('code', null, sa.clientId)],
        [
          'Key',
          [
            h('code', null, sa.keyId.slice(0, 8)),
            ' saved ',
            time(sa.savedAt),
            sa.source === 'host' ? ' by the host product' : ` by ${sa.savedBy}`,
          ],
        ],
        ['Impersonates', sa.subject],
      ]),
    h(
      'p',
      { class: 'small' },
      "In the Google Admin console, open Security > Access and data control > API controls > Manage Domain Wide Delegation, add the service account's client ID with these OAuth scopes:",
    ),
    h('p', null, h('code', { class: 'copyable' }, (s.delegationScopes ?? []).join(','))),
    field(
      'JSON key file',
      file,
      'Stored in Secret Manager only. Upload a new key here to rotate it, then delete the old one in the Cloud console.',
    ),
    field(
      'Admin to impersonate',
      subject,
      'A Google Workspace administrator (a delegated admin with read privileges is enough).',
    ),
    result,
    h('div', { class: 'actions' }, upload),
  );
}

/**
 * The connection options card (null for a viewer of a tenant not yet connected). `tenant` is GET /api/tenants/:t;
 * the details come from GET .../connection.
 * @param {string} t
 * @param {any} tenant
 */
export function connectionOptionsCard(t, tenant) {
  // Before the first connection only owners see it: they choose the mode (a pending tenant has nothing to show).
  if (tenant.status === 'pending' && tenant.role !== 'owner' && tenant.role !== 'admin') return null;
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading the connection options…'));
  const canWrite = tenant.role === 'owner' || tenant.role === 'admin' || tenant.role === null;
  const isOwner = tenant.role === 'owner';
  const render = async () => {
    try {
      const s = await get(tenantPath(t, '/connection'));
      const check = button('Check credential now', {
        onclick: (e) =>
          busy(e.currentTarget, async () => {
            try {
              await post(tenantPath(t, '/connection/health-check'));
              await render();
            } catch (err) {
              showError(err, 'The credential check could not run');
            }
          }),
      });
      replace(
        body,
        props([['Connects with', MODES[s.mode] ?? s.mode]]),
        h('h3', null, 'Credential health'),
        healthView(s.health),
        canWrite && h('div', { class: 'actions' }, check),
        h('h3', null, 'What the authorizing admin can read'),
        accessView(s.access ?? []),
        isOwner && tenantClientForm(t, s, render),
        canWrite && serviceAccountForm(t, s, render),
      );
    } catch (err) {
      replace(body, h('p', { class: 'bad' }, `The connection options could not be loaded: ${err.message}`));
    }
  };
  void render();
  return card('Connection options', body);
}
