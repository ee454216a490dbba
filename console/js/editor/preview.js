// The preview: the first records the draft would write, read live from Google Workspace. Nothing is written.
import { post, tenantPath } from '../api.js';
import { badge, busy, card, cellValue, h, replace, table } from '../dom.js';

/**
 * The preview card, and `run` to fill it from a button.
 * @param {string} tenantId
 * @param {() => object} currentBody the mapping input body to preview
 * @param {ReturnType<typeof import('./error-report.js').errorReport>} errors
 */
export function mappingPreview(tenantId, currentBody, errors) {
  const output = h('div', { 'aria-live': 'polite' });
  const element = card('Preview', [
    h(
      'p',
      { class: 'muted' },
      'The first records this mapping would write, read live from Google Workspace. Nothing is written.',
    ),
    output,
  ]);
  element.id = 'preview';

  const run = (btn) =>
    busy(btn, async () => {
      errors.clear();
      replace(output, h('p', { class: 'muted' }, 'Reading a sample from Google Workspace…'));
      try {
        const r = await post(tenantPath(tenantId, '/mappings/preview'), {
          mapping: currentBody(),
          limit: 10,
        });
        const recs = r.records ?? [];
        const cols = [...new Set(recs.flatMap((x) => Object.keys(x.data ?? {})))];
        replace(
          output,
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
        output.replaceChildren();
        errors.report(err, 'The preview could not run');
      }
    });

  return { element, run };
}
