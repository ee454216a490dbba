// Mapping editor. The API validates with the same rules as the sync (shared/mapping.ts); its 400 details are
// shown next to the inputs they name, with a summary linking to each.
import { ApiError, post, request, tenantPath } from './api.js';
import {
  badge,
  busy,
  button,
  card,
  cellValue,
  confirmDialog,
  entityLabel,
  h,
  objectIdOf,
  pageHeader,
  replace,
  table,
} from './dom.js';
import { navigate } from './router.js';
import { flashNext, loadEntities, loadTenant, notify, showError, state } from './shell.js';
import { startSync } from './runs.js';

const CUSTOM = '__custom__';

/** A useful starting point per entity: object id, field map and a one-line description. */
const PRESETS = {
  users: [
    'users',
    'primaryEmail:email name.givenName:firstName name.familyName:lastName orgUnitPath:orgUnit',
    'Staff and students in the directory',
  ],
  chromeos: [
    'chromebooks',
    'serialNumber:serialNumber annotatedAssetId:assetTag model:model annotatedUser:assignedUser orgUnitPath:orgUnit',
    'Managed Chromebooks and other Chrome OS devices',
  ],
  mobile: [
    'mobile-devices',
    'serialNumber:serialNumber model:model os:os type:type status:status',
    'Managed Android and iOS devices',
  ],
  orgunits: [
    'org-units',
    'orgUnitPath:path name:name description:description parentOrgUnitPath:parentPath',
    'The organizational unit tree',
  ],
};
const preset = (kind) => PRESETS[kind] ?? ['', '', ''];
const presetRows = (kind) =>
  preset(kind)[1]
    .split(' ')
    .map((p) => ({ source: p.split(':')[0], target: p.split(':')[1], custom: false }));

const LABELS = {
  name: 'Name',
  identifier: 'Unique identifier',
  target: 'Sync users as',
  'target.kind': 'Sync users as',
  'target.role': 'Role',
  'target.objectId': 'Object ID',
  fieldMap: 'Fields',
  'orgUnitScope.paths': 'Org unit paths',
  removalThresholdPercent: 'Removal safety threshold',
};
function labelOf(path) {
  const m = /^fieldMap\.(\d+)\.(source|target)$/.exec(path);
  if (m)
    return `Field row ${Number(m[1]) + 1}, ${m[2] === 'source' ? 'Google Workspace field' : 'field name'}`;
  return LABELS[path.replace(/\.\d+$/, '')] ?? path;
}

/** A field: label, optional hint, an error slot, the control. `path` is the API's error path for it. */
function field(path, label, control, hint) {
  const id = control.id;
  if (hint) control.setAttribute('aria-describedby', `${id}-hint`);
  return h(
    'div',
    { class: 'field', 'data-path': path },
    h('label', { for: id }, label),
    hint && h('p', { class: 'hint', id: `${id}-hint` }, hint),
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
    control,
  );
}

/** Radio choices shown as cards, in a fieldset with a legend and an error slot. */
function choices(path, legend, name, items, value, onpick) {
  return h(
    'fieldset',
    { class: 'field', 'data-path': path },
    h('legend', null, legend),
    h('p', { class: 'field-error', id: `${name}-error`, hidden: true }),
    h(
      'div',
      { class: 'choices' },
      items.map(([v, label, hint]) =>
        h(
          'label',
          { class: 'choice' },
          h('input', {
            type: 'radio',
            name,
            value: v,
            id: `${name}-${v}`,
            checked: v === value,
            onchange: () => onpick(v),
          }),
          h('span', null, h('strong', null, label), h('small', null, hint)),
        ),
      ),
    ),
  );
}

/** @type {import('./router.js').View} */
export async function renderEditor(route, el) {
  const t = route.params.t ?? '';
  const id = route.params.id;
  const [entities, res] = await Promise.all([
    loadEntities(),
    id && request('GET', tenantPath(t, `/mappings/${encodeURIComponent(id)}`)),
    loadTenant(t),
  ]);
  const saved = res ? (res.data?.mapping ?? res.data) : null;
  let etag = res ? (res.etag ?? `"${saved.version}"`) : '';
  const entityOf = (k) => entities.find((e) => e.kind === k) ?? { kind: k, identifiers: [], fields: [] };

  // The working copy, in the shape of the form.
  const m = {
    name: saved?.name ?? '',
    entity: saved?.entity ?? 'users',
    identifier: saved?.identifier ?? entityOf('users').identifiers[0],
    kind: saved?.target?.kind ?? 'collection',
    role: saved?.target?.role ?? 'user',
    objectId: saved?.target?.objectId ?? preset('users')[0],
    rows: saved
      ? saved.fieldMap.map((f) => ({
          ...f,
          custom: !entityOf(saved.entity).fields.includes(f.source),
        }))
      : presetRows('users'),
    scoped: !!saved?.orgUnitScope,
    paths: (saved?.orgUnitScope?.paths ?? []).join('\n'),
    children: saved?.orgUnitScope?.includeChildren ?? true,
    enabled: saved?.enabled ?? true,
    threshold: String(saved?.removalThresholdPercent ?? 10),
    edited: !!saved,
  };
  const body = () => ({
    name: m.name,
    entity: m.entity,
    identifier: m.identifier,
    target:
      m.kind === 'loginUsers'
        ? { kind: 'loginUsers', role: m.role }
        : m.kind === 'people'
          ? { kind: 'people' }
          : { kind: 'collection', objectId: m.objectId },
    fieldMap: m.rows.map((r) => ({ source: r.source, target: r.target })),
    orgUnitScope: m.scoped
      ? {
          paths: m.paths
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean),
          includeChildren: m.children,
        }
      : null,
    enabled: m.enabled,
    removalThresholdPercent: m.threshold.trim() === '' ? null : Number(m.threshold),
  });

  const form = h('form', { novalidate: true, 'aria-label': 'Mapping' });
  const summary = h('div', {
    class: 'error-summary',
    tabindex: -1,
    hidden: true,
    role: 'group',
    'aria-labelledby': 'summary-title',
  });
  const previewOut = h('div', { 'aria-live': 'polite' });
  const preview = card('Preview', [
    h(
      'p',
      { class: 'muted' },
      'The first records this mapping would write, read live from Google Workspace. Nothing is written.',
    ),
    previewOut,
  ]);
  preview.id = 'preview';

  /** Input handler writing the control's value into the working copy. */
  const bind = (k) => (e) => {
    m[k] = e.target.type === 'checkbox' ? e.target.checked : e.target.value;
    if (k === 'objectId') m.edited = true;
  };
  const input = (id, k, extra = {}) =>
    h('input', { id, value: m[k], autocomplete: 'off', spellcheck: 'false', oninput: bind(k), ...extra });
  const check = (id, label, checked, onchange) =>
    h(
      'div',
      { class: 'check' },
      h('input', { type: 'checkbox', id, checked, onchange }),
      h('label', { for: id }, label),
    );

  const draw = (focus) => {
    const ent = entityOf(m.entity);
    const fields = ent.fields.filter((f) => !f.endsWith('.*'));
    const open = ent.fields.some((f) => f.endsWith('.*'));
    const objectField = field(
      'target.objectId',
      'Object ID',
      input('objectId', 'objectId'),
      'The object in your product that receives the records: lowercase letters, digits and dashes, e.g. chromebooks.',
    );
    replace(
      form,
      summary,
      card('What to sync', [
        field('name', 'Name', input('name', 'name', { placeholder: 'e.g. Student Chromebooks' })),
        choices(
          'entity',
          'Google Workspace entity',
          'entity',
          entities.map((e) => [e.kind, e.label ?? entityLabel(e.kind), preset(e.kind)[2]]),
          m.entity,
          changeEntity,
        ),
        field(
          'identifier',
          'Unique identifier',
          h(
            'select',
            { id: 'identifier', onchange: bind('identifier') },
            ent.identifiers.map((x) => h('option', { selected: x === m.identifier }, x)),
          ),
          'The field that identifies each record; it must be unique, like a serial number.',
        ),
      ]),
      card(
        'Where it goes',
        m.entity === 'users'
          ? [
              choices(
                'target',
                'Sync users as',
                'kind',
                [
                  ['loginUsers', 'Login users with a role', 'People who can sign in to your product'],
                  [
                    'people',
                    'Merged people',
                    'One record per person, joined by email with other directories',
                  ],
                  ['collection', 'Collection records', 'Records in an object, e.g. students'],
                ],
                m.kind,
                (v) => ((m.kind = v), draw(`kind-${v}`)),
              ),
              m.kind === 'loginUsers'
                ? field(
                    'target.role',
                    'Role',
                    input('role', 'role'),
                    'The role these people get in your product, e.g. user or technician.',
                  )
                : m.kind === 'people'
                  ? h(
                      'p',
                      { class: 'hint' },
                      'Records go to the people object, identified by primaryEmail; email and active are set by the merge.',
                    )
                  : objectField,
            ]
          : [
              h(
                'p',
                { class: 'muted' },
                `${ent.label ?? m.entity} become records in an object, keyed by the unique identifier.`,
              ),
              objectField,
            ],
      ),
      card('Fields', [
        h(
          'p',
          { class: 'muted' },
          'Choose the Google Workspace fields to copy and name the field each becomes in your product.',
        ),
        h(
          'div',
          { class: 'field', 'data-path': 'fieldMap' },
          h('p', { class: 'field-error', id: 'fieldmap-error', hidden: true }),
          h(
            'div',
            { class: 'fm-head', 'aria-hidden': 'true' },
            h('span', null, 'Google Workspace field'),
            h('span', null, 'Field in your product'),
          ),
          h(
            'ol',
            { class: 'fm-rows' },
            m.rows.map((r, i) => row(r, i, fields, open)),
          ),
          button('Add field', {
            class: 'btn btn-small',
            id: 'add-field',
            onclick: () => (
              m.rows.push({ source: '', target: '', custom: false }),
              (m.edited = true),
              draw(`src-${m.rows.length - 1}`)
            ),
          }),
          open &&
            h(
              'p',
              { class: 'hint' },
              'For a custom schema field choose “Custom schema field…” and type customSchemas.SchemaName.fieldName.',
            ),
        ),
      ]),
      card('Scope and safety', [
        check('scoped', 'Only sync some org units', m.scoped, () => ((m.scoped = !m.scoped), draw('scoped'))),
        m.scoped && [
          field(
            'orgUnitScope.paths',
            'Org unit paths',
            h('textarea', { id: 'paths', rows: 3, spellcheck: 'false', oninput: bind('paths') }, m.paths),
            'One path per line, e.g. /Students/High School',
          ),
          check('children', 'Include child org units', m.children, bind('children')),
        ],
        field(
          'removalThresholdPercent',
          'Removal safety threshold (%)',
          input('threshold', 'threshold', { type: 'number', min: 0, max: 100 }),
          'A sync that would remove more than this share of records stops and asks you to confirm.',
        ),
        check('enabled', 'Enabled: include this mapping in scheduled syncs', m.enabled, bind('enabled')),
      ]),
      h(
        'div',
        { class: 'actions' },
        h('button', { class: 'btn btn-primary', id: 'save' }, saved ? 'Save changes' : 'Create mapping'),
        button('Preview', { onclick: (e) => runPreview(e.currentTarget) }),
        h('a', { class: 'btn btn-ghost', href: `#/t/${t}/mappings` }, 'Cancel'),
      ),
    );
    if (focus) document.getElementById(focus)?.focus();
  };

  /** One field-map row: source from the entity's list (or custom text), target name, remove. */
  const row = (r, i, fields, open) => {
    const n = i + 1;
    const custom = h('input', {
      id: `src-custom-${i}`,
      value: r.custom ? r.source : '',
      placeholder: 'customSchemas.Schema.field',
      hidden: !r.custom,
      oninput: (e) => (r.source = e.target.value),
    });
    const target = h('input', {
      id: `tgt-${i}`,
      value: r.target,
      autocomplete: 'off',
      oninput: (e) => ((r.target = e.target.value), (m.edited = true)),
    });
    const pick = (e) => {
      const v = e.target.value;
      m.edited = true;
      r.custom = v === CUSTOM;
      custom.hidden = !r.custom;
      if (r.custom) return ((r.source = custom.value), custom.focus());
      r.source = v;
      // Suggest a name for the product's field: name.givenName -> givenName.
      if (!r.target) target.value = r.target = v.split('.').at(-1);
    };
    const slot = (path, cid) => [
      { 'data-path': `fieldMap.${i}.${path}`, class: 'field' },
      h('p', { class: 'field-error', id: `${cid}-error`, hidden: true }),
    ];
    return h(
      'li',
      { class: 'fm-row' },
      h(
        'div',
        ...slot('source', `src-${i}`),
        h('label', { for: `src-${i}`, class: 'fm-label' }, `Google Workspace field, row ${n}`),
        h(
          'select',
          { id: `src-${i}`, onchange: pick },
          h('option', { value: '' }, 'Choose a field…'),
          fields.map((f) => h('option', { selected: !r.custom && f === r.source }, f)),
          (open || r.custom) && h('option', { value: CUSTOM, selected: r.custom }, 'Custom schema field…'),
        ),
        h('label', { for: `src-custom-${i}`, class: 'visually-hidden' }, `Custom schema field, row ${n}`),
        custom,
      ),
      h(
        'div',
        ...slot('target', `tgt-${i}`),
        h('label', { for: `tgt-${i}`, class: 'fm-label' }, `Field in your product, row ${n}`),
        target,
      ),
      button('Remove', {
        class: 'btn btn-small btn-ghost',
        'aria-label': `Remove row ${n}${r.source ? ` (${r.source})` : ''}`,
        onclick: () => (
          m.rows.splice(i, 1),
          (m.edited = true),
          draw(m.rows.length ? `src-${Math.min(i, m.rows.length - 1)}` : 'add-field')
        ),
      }),
    );
  };

  const changeEntity = (kind) => {
    const ent = entityOf(kind);
    Object.assign(m, { entity: kind, identifier: ent.identifiers[0] });
    if (kind !== 'users') m.kind = 'collection';
    if (m.kind === 'people') m.identifier = 'primaryEmail';
    if (!m.edited) Object.assign(m, { objectId: preset(kind)[0], rows: presetRows(kind) });
    else m.rows.forEach((r) => (r.custom = !!r.source && !ent.fields.includes(r.source)));
    draw(`entity-${kind}`);
  };

  /** Puts each 400 detail next to the input its path names (or the nearest enclosing field). */
  const showFieldErrors = (/** @type {{path: string, message: string}[]} */ details) => {
    clearFieldErrors();
    const links = details.map(({ path: full, message }) => {
      const d = { path: full.replace(/^mapping\./, ''), message };
      let path = d.path;
      let wrap = null;
      while (!(wrap = form.querySelector(`[data-path="${CSS.escape(path)}"]`)) && path.includes('.'))
        path = path.slice(0, path.lastIndexOf('.'));
      const err = wrap?.querySelector('.field-error');
      const control = wrap?.querySelector('input:not([hidden]), select, textarea');
      const line = /^orgUnitScope\.paths\.(\d+)/.exec(d.path);
      const msg = line ? `Line ${Number(line[1]) + 1}: ${d.message}` : d.message;
      if (err) {
        err.append(h('div', null, msg));
        err.hidden = false;
      }
      if (control) {
        control.setAttribute('aria-invalid', 'true');
        control.setAttribute(
          'aria-describedby',
          `${control.getAttribute('aria-describedby') ?? ''} ${err?.id ?? ''}`.trim(),
        );
      }
      const text = `${labelOf(d.path)}: ${msg}`;
      return h(
        'li',
        null,
        control
          ? h(
              'a',
              {
                href: `#${control.id}`,
                onclick: (e) => (e.preventDefault(), control.focus()),
              },
              text,
            )
          : text,
      );
    });
    replace(
      summary,
      h(
        'h2',
        { id: 'summary-title' },
        details.length > 1
          ? `There are ${details.length} problems with this mapping`
          : 'There is a problem with this mapping',
      ),
      h('ul', null, links),
    );
    summary.hidden = false;
    summary.focus();
  };

  const clearFieldErrors = () => {
    summary.hidden = true;
    form.querySelectorAll('.field-error').forEach((e) => (e.replaceChildren(), (e.hidden = true)));
    form.querySelectorAll('[aria-invalid]').forEach((c) => {
      c.removeAttribute('aria-invalid');
      const keep = (c.getAttribute('aria-describedby') ?? '')
        .split(' ')
        .filter((x) => x && !x.endsWith('-error'));
      if (keep.length) c.setAttribute('aria-describedby', keep.join(' '));
      else c.removeAttribute('aria-describedby');
    });
  };

  /** A 400 with details goes next to the inputs; anything else to the alert region. */
  const fail = (err, title) => {
    if (err instanceof ApiError && err.status === 400 && err.details.length)
      return showFieldErrors(err.details);
    showError(err, title);
  };

  const runPreview = (btn) =>
    busy(btn, async () => {
      clearFieldErrors();
      replace(previewOut, h('p', { class: 'muted' }, 'Reading a sample from Google Workspace…'));
      try {
        const r = await post(tenantPath(t, '/mappings/preview'), { mapping: body(), limit: 10 });
        const recs = r.records ?? [];
        const cols = [...new Set(recs.flatMap((x) => Object.keys(x.data ?? {})))];
        replace(
          previewOut,
          h(
            'p',
            null,
            h('strong', null, `${recs.length} ${recs.length === 1 ? 'record' : 'records'}`),
            ` shown · ${r.skipped?.length ?? r.skipped ?? 0} skipped (no identifier) · ${r.outOfScope ?? 0} outside the org units`,
          ),
          recs.length
            ? table(
                'Preview records',
                ['Record ID', 'Status', ...cols],
                recs.map((x) => [
                  h('code', null, decodeURIComponent(x.recordId)),
                  badge(x.status),
                  ...cols.map((c) => cellValue(x.data?.[c])),
                ]),
              )
            : h('p', { class: 'muted' }, 'No records match this mapping.'),
        );
      } catch (err) {
        previewOut.replaceChildren();
        fail(err, 'The preview could not run');
      }
    });

  /** 412 (or a 409 conflict): someone else saved or deleted the mapping meanwhile. Reload and say so. */
  const conflict = async () => {
    el.replaceChildren();
    try {
      await renderEditor(route, el);
      showError(
        new ApiError(
          0,
          'conflict',
          'Someone else changed this mapping while you were editing it. The latest version is shown now: make your changes again and save.',
        ),
        'This mapping was changed by someone else',
      );
    } catch (err) {
      showError(err, 'This mapping was changed or deleted by someone else');
    }
    el.querySelector('h1')?.focus();
  };
  const isConflict = (e) => e instanceof ApiError && (e.status === 412 || e.code === 'conflict');
  const mappingUrl = () => tenantPath(t, `/mappings/${encodeURIComponent(saved.id)}`);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form.querySelector('#save'), async () => {
      clearFieldErrors();
      try {
        if (!saved) {
          const { data } = await request('POST', tenantPath(t, '/mappings'), { body: body() });
          const created = data?.mapping ?? data;
          flashNext(() =>
            notify(`Mapping “${created.name}” was created. Use “Sync now” to run it right away.`),
          );
          return navigate(`/t/${t}/mappings/${encodeURIComponent(created.id)}`);
        }
        const r = await request('PUT', mappingUrl(), { body: body(), ifMatch: etag });
        Object.assign(saved, r.data?.mapping ?? r.data);
        etag = r.etag ?? `"${saved.version}"`;
        replace(el.querySelector('.sub'), `Version ${saved.version}`);
        notify(`Changes to “${saved.name}” were saved.`);
      } catch (err) {
        if (isConflict(err)) return conflict();
        fail(err, 'The mapping could not be saved');
      }
    });
  });

  const del = async (btn) => {
    const ok = await confirmDialog({
      title: `Delete “${saved.name}”?`,
      message: h(
        'p',
        null,
        'It stops syncing. Records it already wrote stay in your product. This cannot be undone.',
      ),
      confirm: 'Delete mapping',
      danger: true,
    });
    if (ok)
      await busy(btn, async () => {
        try {
          await request('DELETE', mappingUrl(), { ifMatch: etag });
          flashNext(() => notify(`Mapping “${saved.name}” was deleted.`));
          navigate(`/t/${t}/mappings`);
        } catch (err) {
          if (isConflict(err)) return conflict();
          showError(err, 'The mapping could not be deleted');
        }
      });
  };

  draw();
  const title = saved ? saved.name : 'New mapping';
  el.append(
    h('p', { class: 'crumbs' }, h('a', { href: `#/t/${t}/mappings` }, 'Mappings'), ` / ${title}`),
    pageHeader(
      title,
      saved && [
        saved.enabled === false && badge('disabled'),
        button('Sync now', {
          disabled: state.tenant?.status !== 'active',
          onclick: (e) => startSync(t, e.currentTarget, saved.id),
        }),
        h(
          'a',
          { class: 'btn', href: `#/t/${t}/records/${encodeURIComponent(objectIdOf(saved.target))}` },
          'Records',
        ),
        button('Delete', {
          class: 'btn btn-danger-outline',
          onclick: (e) => del(e.currentTarget),
        }),
      ],
      saved ? `Version ${saved.version}` : 'Choose what to sync from Google Workspace and where it goes.',
    ),
    form,
    preview,
  );
  return title;
}
