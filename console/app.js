// Workspace Sync admin console: boot, sign-in, tenant selection and routing.
import { ApiError, get, post } from './js/api.js';
import { h, replace } from './js/dom.js';
import { currentRoute, defineRoutes, match, navigate } from './js/router.js';
import {
  clearMessages,
  flashNext,
  focusPage,
  notify,
  renderBanner,
  renderHeader,
  renderNav,
  showError,
  state,
  takeFlash,
  viewEl,
} from './js/shell.js';
import { renderOverview } from './js/overview.js';
import { renderMappings } from './js/mappings.js';
import { renderEditor } from './js/editor.js';
import { renderRuns } from './js/runs.js';
import { renderRemovalReview } from './js/removal-review.js';
import { renderRecords } from './js/records.js';
import { renderTeam } from './js/team.js';
import { renderNotifications } from './js/notifications.js';
import { renderSettings } from './js/settings.js';
import { renderAction, renderActionHistory, renderRecord } from './js/device-views.js';
import { renderApiReference } from './js/api-reference.js';

const EXPIRED = 'Your session has expired. Sign in again to continue.';

defineRoutes([
  ['/', home],
  ['/tenants', chooser],
  ['/t/:t', renderOverview],
  ['/t/:t/mappings', renderMappings],
  ['/t/:t/mappings/new', renderEditor],
  ['/t/:t/mappings/:id', renderEditor],
  ['/t/:t/runs', renderRuns],
  ['/t/:t/runs/:runId/review', renderRemovalReview],
  ['/t/:t/records', renderRecords],
  ['/t/:t/records/:objectId', renderRecords],
  ['/t/:t/records/:objectId/:recordId', renderRecord],
  ['/t/:t/devices/actions', renderActionHistory],
  ['/t/:t/devices/actions/:actionId', renderAction],
  ['/t/:t/team', renderTeam],
  ['/t/:t/api', renderApiReference],
  ['/t/:t/notifications', renderNotifications],
  ['/t/:t/settings', renderSettings],
]);

/** Reads what the sign-in and connect redirects left in the query string, then tidies the URL. */
function readReturnParams() {
  const qs = new URLSearchParams(location.search);
  const tenant = qs.get('tenant');
  const err = qs.get('connectError');
  if (location.search)
    history.replaceState(
      null,
      '',
      `/${location.hash.startsWith('#/') ? location.hash : tenant ? `#/t/${tenant}` : ''}`,
    );
  if (qs.get('connected'))
    flashNext(() => notify('Google Workspace is connected. Enabled mappings start their first sync now.'));
  const devices = qs.get('deviceManagement');
  if (devices)
    flashNext(() =>
      notify(
        devices === 'on'
          ? 'Device management is on: Google granted the device scopes.'
          : 'Device management is off: the connection is read-only again.',
      ),
    );
  if (err) {
    const missing = qs.get('missingScopes');
    const text = `${qs.get('connectMessage') ?? `Connecting failed (${err}). Try again.`}${missing ? ` Not granted: ${missing}.` : ''}`;
    flashNext(() => showError(new ApiError(0, err, text), 'Google Workspace was not connected'));
  }
  if (qs.get('entraConnected')) flashNext(() => notify('Microsoft Entra is connected.'));
  const entraErr = qs.get('entraError');
  if (entraErr) {
    const text = qs.get('entraMessage') ?? `Connecting failed (${entraErr}). Try again.`;
    flashNext(() => showError(new ApiError(0, entraErr, text), 'Microsoft Entra was not connected'));
  }
  const signin = qs.get('signinError');
  return (
    signin &&
    (signin === 'access_denied'
      ? 'Sign-in was cancelled on Google’s screen.'
      : `Sign-in did not complete (${signin}). Try again.`)
  );
}

function signInView(reason) {
  Object.assign(state, { me: null, tenantId: null, tenant: null });
  renderHeader(signOut);
  renderNav();
  renderBanner();
  clearMessages();
  replace(
    viewEl(),
    h(
      'section',
      { class: 'signin card', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title', tabindex: -1 }, 'Sign in to Workspace Sync'),
      h(
        'p',
        null,
        'Connect your Google Workspace and choose which users, groups, org units and devices sync into your asset-management product.',
      ),
      reason && h('p', { class: 'alert t-info' }, reason),
      h(
        'a',
        {
          class: 'btn btn-primary btn-lg',
          href: `/api/auth/login?returnTo=${encodeURIComponent(`/${location.hash}`)}`,
        },
        'Sign in with Google',
      ),
      h(
        'p',
        { class: 'muted small' },
        'Use the Google account your organization registered as an administrator.',
      ),
    ),
  );
  viewEl().removeAttribute('aria-busy');
  focusPage('Sign in');
}

/** Ends the server session (everywhere: every browser of this account) and shows the sign-in page. */
async function signOut(everywhere = false) {
  try {
    await post(everywhere === true ? '/api/auth/signout-everywhere' : '/api/auth/signout');
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) return showError(err, 'Signing out did not work');
  }
  sessionStorage.removeItem('ws.tenant');
  history.replaceState(null, '', '/');
  signInView(everywhere === true ? 'You have signed out on every device.' : 'You have signed out.');
}

function home(r, el) {
  const tenants = state.me?.tenants ?? [];
  const last = sessionStorage.getItem('ws.tenant');
  const pick = tenants.find((t) => t.tenantId === last) ?? (tenants.length === 1 && tenants[0]);
  return pick ? navigate(`/t/${pick.tenantId}`, true) : chooser(r, el);
}

function chooser(_r, el) {
  const tenants = state.me?.tenants ?? [];
  el.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: -1 }, 'Choose a tenant')),
    h(
      'section',
      { class: 'card' },
      tenants.length
        ? h(
            'ul',
            { class: 'tenant-list' },
            tenants.map((t) =>
              h(
                'li',
                null,
                h(
                  'a',
                  { href: `#/t/${t.tenantId}` },
                  h('strong', null, t.name || t.tenantId),
                  ` · ${t.role}`,
                ),
              ),
            ),
          )
        : h(
            'p',
            null,
            `${state.me?.email} is not an administrator of any tenant yet. Ask your product’s administrator to invite you.`,
          ),
    ),
  );
  return 'Choose a tenant';
}

let seq = 0;
async function render() {
  const mySeq = ++seq;
  clearMessages();
  takeFlash();
  const route = currentRoute();
  const view = match(route);
  const t = route.params.t;
  if (t) {
    if (state.tenantId !== t) Object.assign(state, { tenantId: t, tenant: null });
    sessionStorage.setItem('ws.tenant', t);
  } else Object.assign(state, { tenantId: null, tenant: null });
  renderHeader(signOut);
  renderNav();
  renderBanner();
  const loading = setTimeout(
    () =>
      mySeq === seq &&
      (viewEl().setAttribute('aria-busy', 'true'), replace(viewEl(), h('p', { class: 'muted' }, 'Loading…'))),
    200,
  );
  const el = h('div');
  let title;
  try {
    if (!view) title = notFound(el, 'Page not found', 'There is no page at this address.');
    else if (t && !(state.me?.tenants ?? []).some((x) => x.tenantId === t))
      title = notFound(el, 'Tenant not available', `You are not an administrator of “${t}”.`);
    else title = await view(route, el);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    if (mySeq === seq) showError(err, 'This page could not be loaded');
    el.replaceChildren(
      h('h1', { tabindex: -1 }, 'Could not load this page'),
      h('button', { class: 'btn', type: 'button', onclick: render }, 'Try again'),
    );
    title = 'Error';
  } finally {
    clearTimeout(loading);
  }
  if (mySeq !== seq || title === undefined) return;
  replace(viewEl(), el);
  viewEl().removeAttribute('aria-busy');
  renderBanner();
  focusPage(title);
}

function notFound(el, title, text) {
  el.append(
    h('h1', { tabindex: -1 }, title),
    h('p', null, text, ' ', h('a', { href: '#/tenants' }, 'Choose a tenant')),
  );
  return title;
}

async function boot() {
  const problem = readReturnParams();
  document.querySelector('.skip-link')?.addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('main')?.focus();
  });
  window.addEventListener('ws:unauthorized', () => {
    if (state.me) signInView(EXPIRED);
  });
  if (problem) return signInView(problem);
  try {
    // The session cookie is HttpOnly: asking who is signed in is how the console finds out.
    state.me = await get('/api/me');
  } catch (err) {
    // The cookie is HttpOnly: the API tells a session that ended (cookie sent, session gone) from none at all.
    if (err instanceof ApiError && err.status === 401)
      return signInView(/session has ended/.test(err.message) ? EXPIRED : null);
    return showError(err, 'Workspace Sync could not load your account');
  }
  window.addEventListener('hashchange', render);
  await render();
}

void boot();
