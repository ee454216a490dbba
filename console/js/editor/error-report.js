// The API validates a mapping with the same rules as the sync (shared/mapping.ts). Its 400 details are shown
// next to the inputs their paths name, with a summary at the top of the form linking to each.
import { ApiError } from '../api.js';
import { h, replace } from '../dom.js';
import { showError } from '../shell.js';

/** How the summary names the input an error path points at. */
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

/**
 * The error summary for `form`, and the functions that fill and clear it and the inputs' error slots.
 * @param {HTMLFormElement} form
 */
export function errorReport(form) {
  const summary = h('div', {
    class: 'error-summary',
    tabindex: -1,
    hidden: true,
    role: 'group',
    'aria-labelledby': 'summary-title',
  });

  /** Puts each detail next to the input its path names (or the nearest enclosing field). */
  const showFieldErrors = (
    /** @type {{path: string, message: string}[]} */ details,
    /** @type {string | undefined} */ title,
  ) => {
    clear();
    const links = details.map(({ path: apiPath, message }) => {
      // The API names the body's fields under `mapping.` where the body is wrapped (the preview's is).
      const fieldPath = apiPath.replace(/^mapping\./, '');
      let path = fieldPath;
      let wrap = null;
      while (!(wrap = form.querySelector(`[data-path="${CSS.escape(path)}"]`)) && path.includes('.'))
        path = path.slice(0, path.lastIndexOf('.'));
      const err = wrap?.querySelector('.field-error');
      const control = wrap?.querySelector('input:not([hidden]), select, textarea');
      // Lines of the typed paths; the org unit picker puts the error next to the unit itself.
      const line = path === 'orgUnitScope.paths' && /^orgUnitScope\.paths\.(\d+)/.exec(fieldPath);
      const msg = line ? `Line ${Number(line[1]) + 1}: ${message}` : message;
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
      const text = `${labelOf(fieldPath)}: ${msg}`;
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
        title ??
          (details.length > 1
            ? `There are ${details.length} problems with this mapping`
            : 'There is a problem with this mapping'),
      ),
      h('ul', null, links),
    );
    summary.hidden = false;
    summary.focus();
  };

  const clear = () => {
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

  /**
   * A 400 with details goes next to the inputs; so does a 409 conflict with another mapping (which names the
   * other mapping and the org unit or target they share), under a title that says it is a conflict. Anything
   * else goes to the alert region. The form keeps what the admin typed either way.
   */
  const report = (err, title) => {
    if (err instanceof ApiError && err.status === 400 && err.details.length)
      return showFieldErrors(err.details);
    if (err instanceof ApiError && err.status === 409 && err.details.length)
      return showFieldErrors(err.details, 'This mapping conflicts with another mapping');
    showError(err, title);
  };

  return { summary, clear, report };
}
