// Notifications: where the tenant's events go (the host product's webhook, email to team members), which events
// each gets, and the delivery log. Owners change the settings; every member sees them and the log.
import { ApiError, get, post, request, tenantPath } from './api.js';
import { busy, button, card, confirmDialog, h, pageHeader, table, time, uid } from './dom.js';
import { clearMessages, loadTenant, notify, showError } from './shell.js';

const OUTCOMES = { delivered: 'Delivered', failed: 'Failed, retrying', gave_up: 'Gave up' };
const outcomeBadge = (o) =>
  h(
    'span',
    { class: `badge t-${o === 'delivered' ? 'ok' : o === 'gave_up' ? 'bad' : 'warn'}`, 'data-status': o },
    OUTCOMES[o] ?? o,
  );

/** @type {import('./router.js').View} */
export async function renderNotifications(route, el, root = el) {
  const t = route.params.t ?? '';
  const [tenant, settings, log, team] = await Promise.all([
    loadTenant(t, true),
    get(tenantPath(t, '/notifications')),
    get(tenantPath(t, '/notifications/deliveries?limit=25')),
    get(tenantPath(t, '/members')),
  ]);
  const isOwner = tenant.role === 'owner';
  const members = team?.members ?? [];
  const labels = Object.fromEntries((settings.eventTypes ?? []).map((e) => [e.type, e.label]));

  const rerender = async (message, extra) => {
    const fresh = document.createElement('div');
    await renderNotifications(route, fresh, root);
    root.replaceChildren(...fresh.childNodes);
    if (extra) root.querySelector('.page-head')?.after(extra);
    if (message) notify(message);
    /** @type {HTMLElement | null} */ (root.querySelector('h1'))?.focus();
  };

  el.append(
    pageHeader(
      'Notifications',
      null,
      'Tell the host product (a signed webhook) and your team (email) when a sync fails, is held for removal review, completes with failed records, needs re-authorization, or changes records.',
    ),
    isOwner ? settingsForm(t, settings, members, labels, rerender) : readOnlySettings(settings, labels),
    deliveryLog(t, log, labels),
  );
  return 'Notifications';
}

/** Checkboxes, one per event type, named for the tests and screen readers by their fieldset. */
function eventChecks(name, legend, types, chosen, labels) {
  return h(
    'fieldset',
    { class: 'field', 'data-events': name },
    h('legend', null, legend),
    types.map((type) => {
      const id = uid(`${name}-event`);
      return h(
        'div',
        { class: 'check' },
        h('input', { type: 'checkbox', id, value: type, checked: chosen.includes(type) }),
        h('label', { for: id }, labels[type] ?? type),
      );
    }),
  );
}
const checkedIn = (fieldset) =>
  [...fieldset.querySelectorAll('input[type=checkbox]:checked')].map((i) => /** @type {any} */ (i).value);

function fieldError(id) {
  return h('p', { class: 'field-error', id, hidden: true });
}
function setFieldError(input, errorEl, text) {
  errorEl.hidden = !text;
  errorEl.textContent = text ?? '';
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function settingsForm(t, s, members, labels, rerender) {
  const types = (s.eventTypes ?? []).map((e) => e.type);
  const url = h('input', {
    id: 'notify-webhook-url',
    type: 'url',
    inputmode: 'url',
    autocomplete: 'off',
    placeholder: 'https://your-product.example/hooks/workspace-sync',
    value: s.webhook.url ?? '',
    'aria-describedby': 'notify-webhook-url-hint notify-webhook-url-error',
  });
  const urlError = fieldError('notify-webhook-url-error');
  const webhookEvents = eventChecks(
    'webhook',
    'Send these events to the webhook',
    types,
    s.webhook.events,
    labels,
  );

  const ownersOnly = s.email.recipients === null;
  const recipientsMode = (value, label, checked) => {
    const id = uid('recipients');
    return h(
      'div',
      { class: 'check' },
      h('input', { type: 'radio', name: 'notify-recipients', id, value, checked }),
      h('label', { for: id }, label),
    );
  };
  const chosen = new Set(s.email.recipients ?? []);
  const memberChecks = h(
    'fieldset',
    { class: 'field', 'data-recipients': '' },
    h('legend', null, 'Team members'),
    members.map((m) => {
      const id = uid('recipient');
      return h(
        'div',
        { class: 'check' },
        h('input', { type: 'checkbox', id, value: m.email, checked: chosen.has(m.email) }),
        h('label', { for: id }, `${m.email} (${m.role})`),
      );
    }),
  );
  const recipientsError = fieldError('notify-recipients-error');
  const syncRecipients = () => {
    const mode = /** @type {any} */ (form.querySelector('input[name=notify-recipients]:checked'))?.value;
    memberChecks.hidden = mode !== 'chosen';
  };
  const emailEvents = eventChecks('email', 'Email these events', types, s.email.events, labels);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save notification settings');

  const form = h(
    'form',
    {
      novalidate: true,
      'aria-label': 'Notification settings',
      onchange: syncRecipients,
      onsubmit: async (e) => {
        e.preventDefault();
        clearMessages();
        setFieldError(url, urlError, null);
        setFieldError(memberChecks, recipientsError, null);
        const mode = /** @type {any} */ (form.querySelector('input[name=notify-recipients]:checked'))?.value;
        const body = {
          webhook: { url: url.value.trim() || null, events: checkedIn(webhookEvents) },
          email: {
            recipients: mode === 'chosen' ? checkedIn(memberChecks) : null,
            events: checkedIn(emailEvents),
          },
        };
        if (body.webhook.events.length > 0 && !body.webhook.url) {
          setFieldError(url, urlError, 'Enter the webhook URL, or untick its events.');
          url.focus();
          return;
        }
        await busy(submit, async () => {
          try {
            const saved = (await request('PUT', tenantPath(t, '/notifications'), { body })).data;
            await rerender(
              'Notification settings saved.',
              saved.webhookSecret && secretBox(saved.webhookSecret),
            );
          } catch (err) {
            const details = err instanceof ApiError ? err.details : [];
            const onUrl = details.find((d) => d.path === 'webhook.url');
            const onRecipients = details.find((d) => d.path.startsWith('email.recipients'));
            if (onUrl) {
              setFieldError(url, urlError, onUrl.message);
              url.focus();
            }
            if (onRecipients) setFieldError(memberChecks, recipientsError, onRecipients.message);
            if (!onUrl && !onRecipients) showError(err, 'The notification settings were not saved');
          }
        });
      },
    },
    card(
      'Webhook to the host product',
      [
        h('div', { class: 'field' }, [
          h('label', { for: 'notify-webhook-url' }, 'Webhook URL'),
          h(
            'p',
            { class: 'hint', id: 'notify-webhook-url-hint' },
            'An https:// address. Each event is a POST signed as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) with this tenant’s signing secret; failed deliveries are retried.',
          ),
          urlError,
          url,
        ]),
        webhookEvents,
        h(
          'p',
          { class: 'muted small', id: 'notify-secret-state' },
          s.webhook.secretSet
            ? ['Signing secret set ', s.webhook.secretSetAt ? time(s.webhook.secretSetAt) : '', '.']
            : 'A signing secret is created when you save a webhook URL, and shown once.',
        ),
      ],
      s.webhook.secretSet
        ? button('Rotate signing secret', {
            class: 'btn btn-small',
            onclick: async (ev) => {
              const btn = ev.currentTarget;
              const ok = await confirmDialog({
                title: 'Rotate the signing secret?',
                message: h(
                  'p',
                  null,
                  'The current secret stops working at once: the host product must be given the new one, which is shown only once.',
                ),
                confirm: 'Rotate',
                danger: true,
              });
              if (!ok) return;
              await busy(btn, async () => {
                try {
                  const r = await post(tenantPath(t, '/notifications/webhook-secret'));
                  await rerender('A new signing secret was created.', secretBox(r.webhookSecret));
                } catch (err) {
                  showError(err, 'The signing secret was not rotated');
                }
              });
            },
          })
        : null,
    ),
    card('Email', [
      s.emailEnabled
        ? null
        : h('p', { class: 'alert t-info' }, 'Email is not configured on this service, so none is sent.'),
      h(
        'fieldset',
        { class: 'field' },
        h('legend', null, 'Send email to'),
        recipientsMode('owners', 'The tenant’s owners', ownersOnly),
        recipientsMode('chosen', 'Chosen team members', !ownersOnly),
      ),
      recipientsError,
      memberChecks,
      emailEvents,
    ]),
    h('div', { class: 'form-actions' }, submit),
  );
  memberChecks.hidden = ownersOnly;
  return form;
}

/** Shown once after a secret was created: the host product needs it to verify the signatures. */
function secretBox(secret) {
  return h(
    'div',
    { class: 'alert t-warn', role: 'status', id: 'notify-new-secret' },
    h(
      'div',
      null,
      h('strong', null, 'Webhook signing secret'),
      h('p', null, 'Give it to the host product now: it is not shown again.'),
      h('code', { class: 'secret', style: 'overflow-wrap: anywhere' }, secret),
    ),
  );
}

function readOnlySettings(s, labels) {
  const list = (events) => (events.length ? events.map((e) => labels[e] ?? e).join('; ') : 'none');
  return card('Settings', [
    h(
      'p',
      null,
      h('strong', null, 'Webhook: '),
      s.webhook.url ?? 'none',
      ' · events: ',
      list(s.webhook.events),
    ),
    h(
      'p',
      null,
      h('strong', null, 'Email to: '),
      s.email.recipients === null ? 'the owners' : s.email.recipients.join(', ') || 'nobody',
      ' · events: ',
      list(s.email.events),
    ),
    h('p', { class: 'muted' }, 'Only owners can change where notifications go.'),
  ]);
}

function deliveryLog(t, log, labels) {
  const rows = (deliveries) =>
    deliveries.map((d) => [
      time(d.at),
      labels[d.type] ?? d.type,
      d.channel === 'webhook' ? 'Webhook' : 'Email',
      String(d.attempt),
      outcomeBadge(d.outcome),
      d.error ?? (d.statusCode ? `HTTP ${d.statusCode}` : ''),
      h('span', { class: 'small' }, d.target),
    ]);
  const heads = ['When', 'Event', 'Channel', 'Attempt', 'Outcome', 'Detail', 'To'];
  const deliveries = log?.deliveries ?? [];
  if (deliveries.length === 0) {
    return card('Delivery log', h('p', { class: 'muted' }, 'Nothing has been sent yet.'));
  }
  const body = table('Delivery attempts', heads, rows(deliveries));
  let next = log.next;
  const more = button('Show older', {
    class: 'btn btn-small',
    hidden: !next,
    onclick: async (e) => {
      await busy(e.currentTarget, async () => {
        try {
          const page = await get(
            tenantPath(t, `/notifications/deliveries?limit=25&after=${encodeURIComponent(next)}`),
          );
          body.querySelector('tbody')?.append(
            ...rows(page.deliveries).map((r) =>
              h(
                'tr',
                null,
                r.map((c) => h('td', null, c)),
              ),
            ),
          );
          next = page.next;
          more.hidden = !next;
        } catch (err) {
          showError(err, 'Older deliveries could not be loaded');
        }
      });
    },
  });
  return card('Delivery log', [
    h('p', { class: 'muted' }, 'Every attempt, newest first. Kept for 30 days.'),
    body,
    more,
  ]);
}
