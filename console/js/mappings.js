// The mappings list.
import { get, listOf, tenantPath } from './api.js';
import { badge, button, h, mappingEntityLabel, pageHeader, table, targetLabel, time } from './dom.js';
import { loadEntitySources, loadTenant } from './shell.js';
import { startSync } from './runs.js';

/** @type {import('./router.js').View} */
export async function renderMappings(route, el) {
  const t = route.params.t ?? '';
  const [tenant, data, sources] = await Promise.all([
    loadTenant(t, true),
    get(tenantPath(t, '/mappings')),
    loadEntitySources(),
  ]);
  /** An identifier as the product names it (Email, Serial Number), from GET /api/entities' labels. */
  const identifierLabel = (m) =>
    (sources[m.source ?? 'google'] ?? []).find((e) => e.kind === m.entity)?.labels?.[m.identifier] ??
    m.identifier;
  // Several login-users mappings split users by org unit: each row says which units it gives its role to.
  const loginScope = (m) =>
    m.target?.kind === 'loginUsers' &&
    h(
      'div',
      { class: 'muted small' },
      m.orgUnitScope?.paths?.length
        ? `Org units: ${m.orgUnitScope.paths.join(', ')}${m.orgUnitScope.includeChildren === false ? ' (without child units)' : ''}`
        : 'Every org unit not given to another login-users mapping',
    );
  const mappings = listOf(data, 'mappings');
  const lastRuns = new Map((tenant.mappings ?? []).map((m) => [m.id, m.lastRun]));
  const off = tenant.status !== 'active' && 'Connect Google Workspace first';
  const newLink = (label) =>
    h('a', { class: 'btn btn-primary', href: `#/t/${t}/mappings/new`, 'data-needs': 'write' }, label);

  el.append(
    pageHeader(
      'Mappings',
      [
        mappings.length > 0 &&
          button('Sync all now', {
            'data-needs': 'write',
            disabled: !!off,
            title: off,
            onclick: (e) => startSync(t, e.currentTarget),
          }),
        newLink('New mapping'),
      ],
      'Each mapping syncs one Google Workspace entity into login users or into the records of an object.',
    ),
    mappings.length
      ? table(
          'Mappings',
          [
            'Name',
            'Entity',
            'Syncs into',
            'Identifier',
            'State',
            'Last run',
            h('span', { class: 'visually-hidden' }, 'Actions'),
          ],
          mappings.map((m) => {
            const last = m.lastRun ?? lastRuns.get(m.id);
            return [
              h('a', { href: `#/t/${t}/mappings/${encodeURIComponent(m.id)}` }, h('strong', null, m.name)),
              mappingEntityLabel(m),
              [targetLabel(m.target), loginScope(m)],
              h('span', { title: m.identifier }, identifierLabel(m)),
              badge(m.enabled === false ? 'disabled' : 'enabled'),
              last
                ? [
                    badge(last.status),
                    ' ',
                    h('span', { class: 'muted small' }, time(last.finishedAt ?? last.startedAt)),
                  ]
                : 'Never',
              button('Sync now', {
                class: 'btn btn-small',
                'data-needs': 'write',
                disabled: !!off || m.enabled === false,
                title: off,
                'aria-label': `Sync ${m.name} now`,
                onclick: (e) => startSync(t, e.currentTarget, m.id),
              }),
            ];
          }),
        )
      : h(
          'section',
          { class: 'card empty' },
          h('h2', null, 'No mappings yet'),
          h(
            'p',
            { class: 'muted' },
            'A mapping chooses what to sync: users as login users, merged people or records; groups, org units, Chrome OS and mobile devices as records.',
          ),
          newLink('Create your first mapping'),
        ),
  );
  return 'Mappings';
}
