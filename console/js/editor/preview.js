// The preview: the first records the draft would write, read live from Google Workspace. Nothing is written.
import { post, tenantPath } from '../api.js';
import { badge, busy, card, cellValue, h, replace, table } from '../dom.js';

/**
 * The preview card, and `run` to fill it from a button.
 * @param {string} tenantId
 * @param {() => object} currentBody the mapping input body to preview
 * @param {ReturnType<typeof import('./error-report.js').errorReport>} errors
 */
export function mappingPreview(tenantId, currentBody, errors, mappingId = null) {
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

  /** What the next sync would do with the draft instead of the stored mapping (stored mappings only). */
  const runNext = (btn) =>
    busy(btn, async () => {
      errors.clear();
      replace(output, h('p', { class: 'muted' }, 'Comparing the draft with the records this mapping holds…'));
      try {
        const r = await post(
          tenantPath(tenantId, `/mappings/${encodeURIComponent(mappingId)}/preview-next-run`),
          {
            mapping: currentBody(),
          },
        );
        replace(output, nextRunSummary(r));
      } catch (err) {
        output.replaceChildren();
        errors.report(err, 'The next-run preview could not run');
      }
    });

  return { element, run, runNext: mappingId ? runNext : null };
}

const NEXT_RUN_BUCKETS = [
  ['created', 'Created'],
  ['updated', 'Updated'],
  ['rekeyed', 'Moved to a new id'],
  ['removed', 'Removed'],
  ['unchanged', 'Unchanged'],
];

/** Counts and samples of a next-run preview, saying plainly when it is only a sample. */
function nextRunSummary(r) {
  const c = r.counts ?? {};
  const sampleRows = (key) =>
    (r.samples?.[key] ?? []).map((x) =>
      h(
        'li',
        null,
        h('code', null, x.identifier ?? decodeURIComponent(x.recordId)),
        x.from ? [' ← ', h('code', null, decodeURIComponent(x.from))] : '',
        x.changes?.length
          ? ` (${x.changes.map((ch) => `${ch.field}: ${JSON.stringify(ch.from)} → ${JSON.stringify(ch.to)}`).join('; ')})`
          : '',
      ),
    );
  return h(
    'div',
    { class: 'next-run', id: 'next-run-preview' },
    r.identifierChange &&
      h(
        'div',
        { class: 'alert t-warn' },
        h(
          'p',
          null,
          h('strong', null, 'The unique identifier changes '),
          `from ${r.identifierChange.from} to ${r.identifierChange.to}. Saving asks you to confirm; the next sync moves each record to its new id instead of creating duplicates.`,
        ),
      ),
    h(
      'p',
      { class: r.complete ? 'muted' : 'alert t-info' },
      r.complete ? `Complete: ${r.message}.` : `Only a sample: ${r.message}.`,
    ),
    h(
      'dl',
      { class: 'counts' },
      NEXT_RUN_BUCKETS.map(([k, label]) =>
        h(
          'div',
          { 'data-count': k },
          h('dt', null, label),
          h('dd', null, c[k] == null ? 'unknown' : String(c[k])),
        ),
      ),
    ),
    r.wouldHold &&
      h(
        'p',
        { class: 'alert t-warn' },
        'The removals would be over the safety threshold: the run would be held for review.',
      ),
    NEXT_RUN_BUCKETS.slice(0, 4).map(([k, label]) =>
      r.samples?.[k]?.length
        ? [h('h3', null, `${label}, for example`), h('ul', { class: 'samples' }, sampleRows(k))]
        : '',
    ),
  );
}
