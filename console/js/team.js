// The team: who can sign in to this tenant, and with which role. Owners change it; everyone else sees it.
import { ApiError, get, request, tenantPath } from './api.js';
import { badge, busy, button, card, confirmDialog, h, pageHeader, table, time } from './dom.js';
import { clearMessages, loadTenant, notify, showError } from './shell.js';

const ROLES = [
  ['owner', 'Owner', 'manages the team, connections and mappings'],
  ['admin', 'Admin', 'connects Google Workspace, edits mappings, syncs'],
  ['viewer', 'Viewer', 'sees status, runs and records'],
];
const roleInfo = (r) => ROLES.find(([v]) => v === r);
const roleLabel = (r) => roleInfo(r)?.[1] ?? r;

const memberPath = (t, email) => tenantPath(t, `/members/${encodeURIComponent(email)}`);

/** @type {import('./router.js').View} */
export async function renderTeam(route, el, root = el) {
  const t = route.params.t ?? '';
  const [tenant, data] = await Promise.all([loadTenant(t, true), get(tenantPath(t, '/members'))]);
  const members = data?.members ?? [];
  const you = data?.you ?? null;
  const isOwner = tenant.role === 'owner';
  const owners = members.filter((m) => m.role === 'owner').length;
  // The API refuses to demote or remove the last owner; the page does not offer it.
  const soleOwner = (m) => m.role === 'owner' && owners <= 1;

  // Re-renders in place after a change. Handlers of the new content re-render the same root, not the
  // detached container they were built in. Focus goes back where the admin was working.
  const rerender = async (message, focus = 'h1') => {
    const fresh = document.createElement('div');
    await renderTeam(route, fresh, root);
    root.replaceChildren(...fresh.childNodes);
    if (message) notify(message);
    /** @type {HTMLElement | null} */ (root.querySelector(focus))?.focus();
  };

  const roleCell = (m) => {
    const sole = soleOwner(m);
    if (!isOwner) return badge(m.role);
    return h(
      'select',
      {
        'aria-label': `Role of ${m.email}`,
        disabled: sole,
        title: sole ? 'The only owner cannot be changed: make someone else an owner first' : null,
        onchange: async (e) => {
          const sel = e.currentTarget;
          const role = sel.value;
          sel.disabled = true;
          try {
            clearMessages();
            // Re-rendering reloads the tenant, so demoting yourself takes the owner controls away at once.
            await request('PUT', memberPath(t, m.email), { body: { role } });
            await rerender(`${m.email} is now ${roleLabel(role).toLowerCase()}.`);
          } catch (err) {
            sel.value = m.role;
            sel.disabled = false;
            showError(err, `The role of ${m.email} was not changed`);
          }
        },
      },
      ROLES.map(([v, label]) => h('option', { value: v, selected: v === m.role }, label)),
    );
  };

  const removeButton = (m) => {
    const sole = soleOwner(m);
    return button('Remove', {
      class: 'btn btn-small btn-danger-outline',
      'aria-label': `Remove ${m.email}`,
      disabled: sole,
      title: sole ? 'The only owner cannot be removed' : null,
      onclick: async (e) => {
        const btn = e.currentTarget;
        const self = m.email === you;
        const ok = await confirmDialog({
          title: self ? 'Leave this tenant?' : `Remove ${m.email}?`,
          message: h(
            'p',
            null,
            self
              ? 'You will no longer be able to sign in to this tenant unless an owner adds you again.'
              : `${m.email} will no longer be able to sign in to this tenant. Nothing they set up is changed.`,
          ),
          confirm: self ? 'Leave' : 'Remove',
          danger: true,
        });
        if (!ok) return;
        await busy(btn, async () => {
          try {
            clearMessages();
            await request('DELETE', memberPath(t, m.email));
            if (self) location.hash = '#/';
            else await rerender(`${m.email} was removed from the team.`);
          } catch (err) {
            showError(err, `${m.email} was not removed`);
          }
        });
      },
    });
  };

  el.append(
    pageHeader(
      'Team',
      null,
      'Who can sign in to this tenant. Owners manage the team; admins connect Google Workspace, edit mappings and sync; viewers only look.',
    ),
    table(
      'Team members',
      ['Email', 'Role', 'Added', isOwner ? h('span', { class: 'visually-hidden' }, 'Actions') : null].filter(
        Boolean,
      ),
      members.map((m) => [
        [m.email, m.email === you ? h('span', { class: 'muted' }, ' (you)') : null],
        roleCell(m),
        m.addedAt
          ? [time(m.addedAt), m.addedBy ? h('span', { class: 'muted small' }, ` by ${m.addedBy}`) : null]
          : '—',
        ...(isOwner ? [removeButton(m)] : []),
      ]),
    ),
    isOwner
      ? addMemberCard(t, members, rerender)
      : h('p', { class: 'muted' }, 'Only owners can add or remove members and change roles.'),
  );
  return 'Team';
}

/** The add form. Errors from the API land next to the field they are about. */
function addMemberCard(t, members, rerender) {
  const email = h('input', {
    id: 'member-email',
    type: 'email',
    name: 'email',
    autocomplete: 'off',
    required: true,
    placeholder: 'name@school.example',
    'aria-describedby': 'member-email-error',
  });
  const emailError = h('p', { class: 'field-error', id: 'member-email-error', hidden: true });
  const role = h(
    'select',
    { id: 'member-role', name: 'role', 'aria-describedby': 'member-role-hint' },
    ROLES.map(([v, label]) => h('option', { value: v, selected: v === 'admin' }, label)),
  );
  const roleHint = h('p', { class: 'hint', id: 'member-role-hint' });
  const describeRole = () => (roleHint.textContent = roleInfo(role.value)?.[2] ?? '');
  role.addEventListener('change', describeRole);
  describeRole();
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add member');

  const setEmailError = (text) => {
    emailError.hidden = !text;
    emailError.textContent = text ?? '';
    if (text) email.setAttribute('aria-invalid', 'true');
    else email.removeAttribute('aria-invalid');
  };

  const form = h(
    'form',
    {
      novalidate: true,
      'aria-label': 'Add a member',
      onsubmit: async (e) => {
        e.preventDefault();
        clearMessages();
        const value = email.value.trim().toLowerCase();
        if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
          setEmailError('Enter an email address, like name@school.example.');
          email.focus();
          return;
        }
        if (members.some((m) => m.email === value)) {
          setEmailError(`${value} is already a member: change their role in the table.`);
          email.focus();
          return;
        }
        setEmailError(null);
        await busy(submit, async () => {
          try {
            await request('PUT', memberPath(t, value), { body: { role: role.value } });
            await rerender(`${value} was added as ${roleLabel(role.value).toLowerCase()}.`, '#member-email');
          } catch (err) {
            const onEmail = err instanceof ApiError && err.details.find((d) => d.path === 'memberEmail');
            if (onEmail) {
              setEmailError(onEmail.message);
              email.focus();
            } else showError(err, `${value} was not added`);
          }
        });
      },
    },
    h('div', { class: 'field' }, h('label', { for: 'member-email' }, 'Email address'), emailError, email),
    h('div', { class: 'field' }, h('label', { for: 'member-role' }, 'Role'), roleHint, role),
    submit,
  );
  return card('Add a member', [
    h(
      'p',
      { class: 'muted' },
      'They sign in with this Google account. Access starts at once; nothing is sent to them.',
    ),
    form,
  ]);
}
