// Small DOM and formatting helpers shared by the views.

/**
 * Creates an element. `on<event>` props become listeners; value/checked/selected/disabled are set as
 * properties; false/null/undefined props are skipped; children may be nested arrays, strings or nodes.
 * @param {string} tag
 * @param {Record<string, any> | null} [props]
 * @param {...any} children
 * @returns {any}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === false || v == null) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (['value', 'checked', 'selected', 'disabled'].includes(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  return append(el, children);
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c != null && c !== false) el.appendChild(typeof c === 'object' ? c : document.createTextNode(c));
  }
  return el;
}

export const replace = (el, ...children) => (el.replaceChildren(), append(el, children));

let seq = 0;
export const uid = (prefix = 'id') => `${prefix}-${++seq}`;

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const fmtNum = (n) => (typeof n === 'number' ? n.toLocaleString() : '—');

/** A <time> with the exact instant as its machine-readable value. */
export const time = (iso) =>
  iso ? h('time', { datetime: iso, title: iso }, dateFmt.format(new Date(iso))) : '—';

/**
 * A <time> in a named IANA zone (a tenant's schedule), with the zone's short name, so 07:00 in Chicago reads
 * as 7:00 AM CST wherever the admin's browser is. An unknown zone falls back to the browser's own.
 */
export function timeIn(iso, timeZone) {
  if (!iso) return '—';
  let text;
  try {
    text = new Intl.DateTimeFormat(undefined, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone,
    }).format(new Date(iso));
    text += ` ${new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' }).formatToParts(new Date(iso)).find((p) => p.type === 'timeZoneName')?.value ?? timeZone}`;
  } catch {
    text = dateFmt.format(new Date(iso));
  }
  return h('time', { datetime: iso, title: iso }, text);
}

export function fmtDuration(ms) {
  if (typeof ms !== 'number') return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** status -> [tone, label]; the label always says the state, colour only repeats it. */
const STATUS = {
  active: ['ok', 'Active'],
  pending: ['neutral', 'Not connected'],
  needs_reauth: ['warn', 'Needs re-authorization'],
  paused: ['neutral', 'Paused'],
  running: ['info', 'Running'],
  queued: ['info', 'Queued'],
  succeeded: ['ok', 'Succeeded'],
  succeeded_with_errors: ['warn', 'Succeeded with errors'],
  failed: ['bad', 'Failed'],
  held: ['warn', 'Held for review'],
  partly: ['warn', 'Partly failed'],
  removed: ['neutral', 'Removed'],
  inactive: ['neutral', 'Inactive'],
  enabled: ['ok', 'Enabled'],
  disabled: ['neutral', 'Disabled'],
  entra_connected: ['ok', 'Connected'],
  needs_consent: ['warn', 'Needs admin consent'],
  needs_credentials: ['warn', 'Needs attention'],
  disconnected: ['neutral', 'Disconnected'],
  owner: ['info', 'Owner'],
  admin: ['neutral', 'Admin'],
  viewer: ['neutral', 'Viewer'],
};

export function badge(status) {
  const [tone, label] = STATUS[status] ?? ['neutral', String(status).replace(/_/g, ' ')];
  return h('span', { class: `badge t-${tone}`, 'data-status': status }, label);
}

const ENTITY_LABELS = {
  users: 'Users',
  chromeos: 'Chrome OS devices',
  mobile: 'Mobile devices',
  orgunits: 'Org units',
  groups: 'Groups',
};
export const entityLabel = (k) => ENTITY_LABELS[k] ?? k;

const SOURCE_LABELS = { google: 'Google Workspace', entra: 'Microsoft Entra' };
export const sourceLabel = (s) => SOURCE_LABELS[s ?? 'google'] ?? s;
/** A mapping's entity, naming the source when it is not Google Workspace: "Users (Microsoft Entra)". */
export const mappingEntityLabel = (m) =>
  (m?.source ?? 'google') === 'google'
    ? entityLabel(m?.entity)
    : `${entityLabel(m?.entity)} (${sourceLabel(m.source)})`;

export const targetLabel = (t) =>
  t?.kind === 'loginUsers'
    ? `Login users (role ${t.role})`
    : t?.kind === 'people'
      ? 'Merged people'
      : `Records in ${t?.objectId}`;
export const objectIdOf = (t) => ({ loginUsers: 'login-users', people: 'people' })[t?.kind] ?? t?.objectId;

/** A table in a horizontally scrollable, keyboard-focusable region. Rows: arrays of cells or <tr>s. */
export function table(label, heads, rows, cls = '') {
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': label },
    h(
      'table',
      { class: `data ${cls}` },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          heads.map((c) => h('th', { scope: 'col', class: c.cls }, c.text ?? c)),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((r) =>
          Array.isArray(r)
            ? h(
                'tr',
                null,
                r.map((c) => (c?.tagName === 'TD' ? c : h('td', null, c))),
              )
            : r,
        ),
      ),
    ),
  );
}

/** A titled card section. */
export function card(title, body, actions = null, id = uid('card')) {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': id },
    h(
      'div',
      { class: 'card-head' },
      h('h2', { id }, title),
      actions && h('div', { class: 'actions' }, actions),
    ),
    body,
  );
}

export const button = (label, props = {}) => h('button', { type: 'button', class: 'btn', ...props }, label);

/** The page heading (focused after navigation), a subtitle and page actions. */
export const pageHeader = (title, actions, sub) =>
  h(
    'div',
    { class: 'page-head' },
    h('div', null, h('h1', { tabindex: -1 }, title), sub && h('p', { class: 'sub' }, sub)),
    actions && h('div', { class: 'actions' }, actions),
  );

/**
 * Confirmation in the native modal <dialog> (focus trapped, Esc cancels).
 * @param {{title: string, message: any, confirm: string, danger?: boolean}} o
 * @returns {Promise<boolean>}
 */
export function confirmDialog(o) {
  const dlg = document.getElementById('confirm');
  const ok = h('button', { class: `btn ${o.danger ? 'btn-danger' : 'btn-primary'}`, value: 'ok' }, o.confirm);
  replace(
    dlg,
    h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'confirm-title' }, o.title),
      h('div', { id: 'confirm-body' }, o.message),
      h('div', { class: 'actions' }, h('button', { class: 'btn', value: 'cancel' }, 'Cancel'), ok),
    ),
  );
  dlg.returnValue = '';
  dlg.showModal();
  ok.focus();
  return new Promise((resolve) =>
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true }),
  );
}

/** Runs `fn` with the button disabled and busy, so a double click cannot send twice. */
export async function busy(btn, fn) {
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
  }
}

/** A record or preview value: short and readable, objects as compact JSON. */
export function cellValue(v) {
  if (v == null || v === '') return h('span', { class: 'muted' }, '—');
  if (typeof v !== 'object') return String(v);
  const s = JSON.stringify(v);
  return h('code', { title: s }, s.length > 60 ? `${s.slice(0, 57)}…` : s);
}
