// Tenant settings: the sync schedule and its time zone, the removal ceiling, people precedence; owners change them,
// everyone else sees them (the form is read-only for them, shell.js applyRoleGates). Every change is audited.
import { ApiError, get, request, tenantPath } from './api.js';
import { append, busy, card, h, pageHeader, time, timeIn, uid } from './dom.js';
import { loadTenant, notify, showError } from './shell.js';

/** Common schedules; "Custom" keeps whatever cron the tenant has. */
const PRESETS = [
  ['0 6,12,18 * * *', 'Three times a day (06:00, 12:00, 18:00)'],
  ['0 7,10,13,16 * * MON-FRI', 'Four times a school day (07:00 to 16:00, Monday to Friday)'],
  ['0 5,9,12,15,19 * * *', 'Five times a day (05:00 to 19:00)'],
  ['0 */2 * * *', 'Every two hours'],
  ['0 2 * * *', 'Once a night (02:00)'],
];

const PRECEDENCE = [
  ['google,entra', 'Google Workspace first, then Microsoft Entra overwrites'],
  ['entra,google', 'Microsoft Entra first, then Google Workspace overwrites'],
];

function timeZones(current) {
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set(['Etc/UTC', current, ...zones])].filter(Boolean);
}

const field = (id, label, hint, control, error) =>
  h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    hint && h('p', { class: 'hint', id: `${id}-hint` }, hint),
    control,
    error,
  );

/** @type {import('./router.js').View} */
export async function renderSettings(route, el) {
  const t = route.params.t ?? '';
  const [tenant, res, audit] = await Promise.all([
    loadTenant(t),
    request('GET', tenantPath(t, '/settings')),
    get(tenantPath(t, '/settings/audit?limit=10')),
  ]);
  const s = res.data;
  let etag = res.etag;

  const errors = {};
  const errorEl = (key) => (errors[key] = h('p', { class: 'field-error', id: uid('err'), hidden: true }));

  const cron = h('input', {
    id: 'settings-cron',
    name: 'cron',
    value: s.schedule.cron,
    spellcheck: 'false',
    autocomplete: 'off',
    'aria-describedby': 'settings-cron-hint',
  });
  const preset = h(
    'select',
    {
      id: 'settings-preset',
      onchange: () => {
        if (preset.value) cron.value = preset.value;
      },
    },
    h('option', { value: '' }, 'Custom (cron expression below)'),
    PRESETS.map(([v, label]) => h('option', { value: v, selected: v === s.schedule.cron }, label)),
  );
  const zone = h(
    'select',
    { id: 'settings-zone', name: 'timeZone' },
    timeZones(s.schedule.timeZone).map((z) =>
      h('option', { value: z, selected: z === s.schedule.timeZone }, z),
    ),
  );
  const threshold = h('input', {
    id: 'settings-threshold',
    name: 'removalThresholdPercent',
    type: 'number',
    min: '0',
    max: '100',
    step: '1',
    inputmode: 'numeric',
    value: s.removalThresholdPercent ?? '',
    placeholder: 'Each mapping’s own',
  });
  const precedenceNow = (s.peoplePrecedence?.default ?? ['google', 'entra']).join(',');
  const precedence = h(
    'select',
    { id: 'settings-precedence', name: 'peoplePrecedence' },
    PRECEDENCE.map(([v, label]) => h('option', { value: v, selected: v === precedenceNow }, label)),
  );

  const showErrors = (err) => {
    for (const e of Object.values(errors)) {
      e.hidden = true;
      e.textContent = '';
    }
    const details = err instanceof ApiError ? err.details : [];
    let shown = false;
    for (const d of details) {
      const key = d.path.startsWith('schedule.cron')
        ? 'cron'
        : d.path.startsWith('schedule.timeZone')
          ? 'zone'
          : d.path.startsWith('removalThresholdPercent')
            ? 'threshold'
            : d.path.startsWith('peoplePrecedence')
              ? 'precedence'
              : null;
      if (key && errors[key]) {
        errors[key].hidden = false;
        errors[key].textContent = d.message;
        shown = true;
      }
    }
    if (!shown) showError(err, 'The settings were not saved');
    else document.querySelector('.field-error:not([hidden])')?.previousElementSibling?.focus();
  };

  const save = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', id: 'settings-save' },
    'Save settings',
  );
  const form = h(
    'form',
    {
      novalidate: true,
      'aria-label': 'Tenant settings',
      'data-needs': 'owner',
      onsubmit: (e) => {
        e.preventDefault();
        void busy(save, async () => {
          const raw = threshold.value.trim();
          const body = {
            schedule: { cron: cron.value.trim(), timeZone: zone.value },
            removalThresholdPercent: raw === '' ? null : Number(raw),
            peoplePrecedence: {
              ...s.peoplePrecedence,
              default: precedence.value.split(','),
            },
          };
          try {
            const saved = await request('PUT', tenantPath(t, '/settings'), {
              body,
              ...(etag ? { ifMatch: etag } : {}),
            });
            etag = saved.etag;
            const changed = saved.data.changed ?? [];
            el.replaceChildren();
            await renderSettings(route, el);
            notify(changed.length ? `Settings saved: ${changed.join(', ')}.` : 'Nothing changed.');
            await loadTenant(t, true);
          } catch (err) {
            showErrors(err);
          }
        });
      },
    },
    card('Sync schedule', [
      h(
        'p',
        { class: 'muted' },
        'Syncs start at these times in the tenant’s time zone (within a quarter of an hour). You can also start one at any time with Sync now.',
      ),
      h(
        'p',
        { id: 'schedule-description' },
        h('strong', null, s.schedule.description),
        ` · ${s.schedule.timeZone}`,
      ),
      s.schedule.nextRunAt &&
        h('p', { class: 'muted small' }, 'Next run: ', timeIn(s.schedule.nextRunAt, s.schedule.timeZone)),
      field('settings-preset', 'Schedule', null, preset),
      field(
        'settings-cron',
        'Cron expression',
        'Five fields: minute hour day-of-month month day-of-week. At most one run an hour.',
        cron,
        errorEl('cron'),
      ),
      field('settings-zone', 'Time zone', null, zone, errorEl('zone')),
    ]),
    card('Removals', [
      field(
        'settings-threshold',
        'Removal ceiling (%)',
        'A sync that would remove more than this share of a mapping’s records is held for review. Empty: each mapping’s own threshold; otherwise the lower of the two applies.',
        threshold,
        errorEl('threshold'),
      ),
    ]),
    card('People from several sources', [
      field(
        'settings-precedence',
        'Which source wins a field',
        'For merged people (Google Workspace and Microsoft Entra). Per-field choices set through the API are kept.',
        precedence,
        errorEl('precedence'),
      ),
    ]),
    h('div', { class: 'save-bar' }, save),
  );

  const entries = audit?.entries ?? [];
  const history = card(
    'Change history',
    entries.length
      ? h(
          'ul',
          { class: 'audit-list' },
          entries.map((e) =>
            h(
              'li',
              null,
              time(e.at),
              ' · ',
              h('strong', null, e.by),
              ' changed ',
              e.changes.map((c) => c.field).join(', '),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No changes yet: the defaults apply.'),
  );

  append(el, [
    pageHeader(
      'Settings',
      null,
      tenant.role === 'owner' || s.canEdit
        ? 'Owners change these; every change is recorded below.'
        : 'Only owners change these.',
    ),
    form,
    history,
  ]);
  return 'Settings';
}
