// App state and the chrome around every view: alert and notice regions, tenant banner, navigation, header.
import { ApiError, get, post, tenantPath } from './api.js';
import { button, h, replace, time } from './dom.js';
import { currentRoute } from './router.js';

/** @type {{me: any, tenantId: string | null, tenant: any, entities: any[] | null, sources: Record<string, any[]> | null}} */
export const state = { me: null, tenantId: null, tenant: null, entities: null, sources: null };

const $ = (id) => document.getElementById(id);
export const viewEl = () => $('view');

/** A message box with a Dismiss button, in one of the live regions. */
function message(region, tone, body) {
  const el = $(region);
  replace(
    el,
    h(
      'div',
      { class: `alert t-${tone}` },
      h('div', null, body),
      button('Dismiss', { class: 'btn btn-ghost', onclick: () => el.replaceChildren() }),
    ),
  );
}

/** An error in the alert region (role=alert: announced at once). */
export function showError(err, title = 'Something went wrong') {
  const e = err instanceof ApiError ? err : null;
  message('alert', 'bad', [
    h('strong', null, title),
    h('p', null, err instanceof Error ? err.message : String(err)),
    e?.status ? h('p', { class: 'small' }, `${e.code} · HTTP ${e.status}`) : null,
  ]);
}
/** A success or info message in the polite status region. */
export const notify = (text, tone = 'ok') => message('notice', tone, h('p', null, text));
export const clearMessages = () => ($('alert').replaceChildren(), $('notice').replaceChildren());

/** Something to show once the next page has rendered (rendering clears the regions first). */
let pending = null;
export const flashNext = (fn) => (pending = fn);
export function takeFlash() {
  pending?.();
  pending = null;
}

/** Starts Google's consent flow: the API answers with the URL to send the admin to. */
export function startAuthorize(btn) {
  btn.disabled = true;
  post(tenantPath(state.tenantId, '/connection/authorize'))
    .then((r) => location.assign(r.authorizationUrl))
    .catch((err) => {
      btn.disabled = false;
      showError(err, 'Could not start connecting to Google Workspace');
    });
}
export const connectButton = (label) =>
  button(label, {
    class: 'btn btn-primary',
    'data-needs': 'write',
    onclick: (e) => startAuthorize(e.currentTarget),
  });

export async function loadTenant(t, force = false) {
  if (force || !state.tenant || state.tenantId !== t) {
    state.tenantId = t;
    state.tenant = await get(tenantPath(t));
  }
  renderBanner();
  return state.tenant;
}

export async function loadEntities() {
  await loadEntitySources();
  return state.entities ?? [];
}

/**
 * Every source's entities: `{google: [...], entra: [...]}`. An API without `sources` lists Google's alone.
 * @returns {Promise<Record<string, any[]>>}
 */
export async function loadEntitySources() {
  if (!state.entities || !state.sources) {
    const d = await get('/api/entities');
    state.entities = Array.isArray(d) ? d : (d?.entities ?? Object.values(d ?? {}));
    state.sources = { google: state.entities, ...(Array.isArray(d) ? {} : (d?.sources ?? {})) };
  }
  return state.sources;
}

/** The tenant-wide banner: re-authorization needed, paused after a revoke, or not connected yet. */
export function renderBanner() {
  const t = state.tenant;
  const c = t?.connection ?? {};
  let b = null;
  if (t?.status === 'needs_reauth') {
    b = [
      'warn',
      'Google Workspace needs re-authorization',
      [
        t.statusReason || 'Google no longer accepts the stored authorization.',
        /[.!]$/.test(t.statusReason || '.') ? ' ' : '. ',
        'Syncing is stopped until an admin reconnects.',
      ],
      'Reconnect',
    ];
  } else if (t?.status === 'paused') {
    b = [
      'neutral',
      'Syncing is paused',
      [
        'Access to Google Workspace was revoked',
        c.revokedBy ? ` by ${c.revokedBy}` : '',
        c.revokedAt ? [' on ', time(c.revokedAt)] : '',
        '. Connect again to resume.',
      ],
      'Connect again',
    ];
  } else if (t?.status === 'pending' && currentRoute().path !== `/t/${state.tenantId}`) {
    b = [
      'info',
      'Not connected yet',
      'Connect Google Workspace to start syncing.',
      'Connect Google Workspace',
    ];
  }
  replace(
    $('banner'),
    b &&
      h(
        'div',
        { class: `banner t-${b[0]}`, role: 'region', 'aria-labelledby': 'banner-title' },
        h('div', null, h('h2', { id: 'banner-title' }, b[1]), h('p', null, b[2])),
        connectButton(b[3]),
      ),
  );
}

const NAV = [
  ['', 'Overview'],
  ['/mappings', 'Mappings'],
  ['/runs', 'Sync runs'],
  ['/records', 'Records'],
  ['/team', 'Team'],
  ['/api', 'API reference'],
  ['/notifications', 'Notifications'],
  ['/settings', 'Settings'],
];

export function renderNav() {
  const nav = $('nav');
  const t = state.tenantId;
  nav.hidden = !t || !state.me;
  if (nav.hidden) return;
  const path = currentRoute().path;
  replace(
    nav,
    h(
      'ul',
      null,
      NAV.map(([suffix, label]) => {
        const to = `/t/${t}${suffix}`;
        return h(
          'li',
          null,
          h(
            'a',
            { href: `#${to}`, 'aria-current': (suffix ? path.startsWith(to) : path === to) && 'page' },
            label,
          ),
        );
      }),
    ),
  );
}

/** Header: the tenant (a picker when the admin has more than one) and the signed-in account. */
export function renderHeader(onSignOut) {
  const me = state.me;
  const tenants = me?.tenants ?? [];
  const pick = h(
    'select',
    { id: 'tenant-select', onchange: (e) => (location.hash = `#/t/${e.target.value}`) },
    !state.tenantId && h('option', { value: '' }, 'Choose a tenant'),
    tenants.map((t) =>
      h('option', { value: t.tenantId, selected: t.tenantId === state.tenantId }, t.name || t.tenantId),
    ),
  );
  replace(
    $('tenant-switch'),
    tenants.length > 1
      ? [h('label', { for: 'tenant-select', class: 'visually-hidden' }, 'Tenant'), pick]
      : tenants[0]?.name,
  );
  replace(
    $('account'),
    me && [
      h('span', { class: 'account-name', title: me.email }, me.name || me.email),
      button('Sign out', { class: 'btn btn-ghost', onclick: () => onSignOut(false) }),
      button('End all sessions', {
        class: 'btn btn-ghost btn-small',
        title: 'End your sessions in every browser',
        onclick: () => onSignOut(true),
      }),
    ],
  );
}

/** Sets the title and moves focus to the page heading, so screen-reader users hear the new page. */
export function focusPage(title) {
  document.title = `${title} · Workspace Sync`;
  viewEl().querySelector('h1')?.focus();
}

// ---------------------------------------------------------------------------------------------------------------
// Role awareness: what the signed-in role may not do is turned off before anyone fills in a form, with the reason.
// A page marks what changes things with data-needs="write" (owners and admins) or data-needs="owner"; the gates
// below disable such buttons and form controls (a form marked so becomes read-only) and hide such links, and one
// note at the top of the page says why. The API still decides (403); this only spares people the surprise.

/** The signed-in person's role in the current tenant, or null (not known yet). */
export function currentRole() {
  return (
    state.tenant?.role ?? (state.me?.tenants ?? []).find((x) => x.tenantId === state.tenantId)?.role ?? null
  );
}

/** Why the current role may not do what `need` asks, or null when it may. */
export function roleShortfall(need) {
  const role = currentRole();
  if (!role) return null;
  if (need === 'owner' && role !== 'owner')
    return `Only owners can change this; you are ${role === 'admin' ? 'an admin' : 'a viewer'} in this tenant.`;
  if (need === 'write' && role === 'viewer')
    return 'You have view-only access to this tenant: ask an owner or admin to make changes.';
  return null;
}

const CONTROLS = 'input, select, textarea, button';

function gate(el, reason) {
  el.dataset.gated = 'true';
  if (el.tagName === 'A') {
    el.hidden = true;
    return;
  }
  const targets = el.tagName === 'FORM' || el.tagName === 'FIELDSET' ? el.querySelectorAll(CONTROLS) : [el];
  for (const c of targets) {
    if (c.dataset.read !== undefined) continue;
    c.disabled = true;
    c.title = reason;
    c.setAttribute('aria-describedby', 'role-note');
  }
}

/** Applies the gates to everything marked inside `root`, and shows the reason once per page. */
export function applyRoleGates(root = viewEl()) {
  if (!root) return;
  let reason = null;
  for (const el of root.querySelectorAll('[data-needs]')) {
    const why = roleShortfall(el.getAttribute('data-needs'));
    // Again for a gated form: its sections re-render their controls.
    if (!why) continue;
    gate(el, why);
    reason ??= why;
  }
  const view = viewEl();
  if (reason && view && !document.getElementById('role-note')) {
    view.prepend(h('p', { id: 'role-note', class: 'role-note', role: 'note' }, reason));
  }
}

// Pages render in parts (a card after its data arrives): gate whatever is added to the view.
if (typeof MutationObserver !== 'undefined' && viewEl()) {
  new MutationObserver(() => applyRoleGates()).observe(viewEl(), { childList: true, subtree: true });
}
