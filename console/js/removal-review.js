// Reviewing a held run: the records it would remove (paged, searchable), which to keep, and the confirmation.
// The API keeps the kept ones out of removal for as long as they stay gone from the source (README "Reviewing
// removals"); the rest are removed by the next sync, which confirming starts.
import { ApiError, get, post, tenantPath } from './api.js';
import {
  badge,
  busy,
  button,
  card,
  cellValue,
  confirmDialog,
  fmtNum,
  h,
  pageHeader,
  replace,
  table,
  time,
  uid,
} from './dom.js';
import { navigate } from './router.js';
import { flashNext, loadTenant, notify, showError, state } from './shell.js';

const PAGE = 25;
/** Record fields shown as columns; the rest stay in the record's detail page. */
const MAX_FIELD_COLUMNS = 3;

/** The link a held run shows (runs page, overview). */
export const reviewHref = (t, runId) => `#/t/${t}/runs/${encodeURIComponent(runId)}/review`;

export const reviewLink = (t, runId, label = 'Review removals') =>
  h('a', { class: 'btn btn-primary', href: reviewHref(t, runId) }, label);

/** @type {import('./router.js').View} */
export async function renderRemovalReview(route, el) {
  const t = route.params.t ?? '';
  const runId = route.params.runId ?? '';
  const [tenant, run] = await Promise.all([
    loadTenant(t),
    get(tenantPath(t, `/runs/${encodeURIComponent(runId)}`)),
  ]);
  const rm = run.removal ?? {};
  const review = run.review ?? null;
  const canConfirm = run.status === 'held' && !review && (tenant?.role ?? state.tenant?.role) !== 'viewer';
  /** Records the admin ticked to keep, across pages and searches. */
  const keep = new Set();
  let query = '';
  let token = null;
  let shown = [];

  const summary = h('p', { role: 'status', class: 'review-summary' });
  const rows = h('div');
  const more = h('p', { class: 'more' });
  const drawSummary = () =>
    replace(
      summary,
      review
        ? `Confirmed by ${review.confirmedBy} on ${new Date(review.confirmedAt).toLocaleString()}: ${fmtNum(review.approved)} removed, ${fmtNum(review.excluded)} kept.`
        : `${fmtNum(rm.candidates ?? 0)} records would be removed (${rm.sharePercent ?? '—'}% of ${fmtNum(rm.previousRecords ?? 0)}; the threshold is ${rm.thresholdPercent ?? '—'}%). ` +
            (keep.size ? `${fmtNum(keep.size)} marked to keep.` : 'Tick the ones to keep.'),
    );

  const fieldColumns = () =>
    [...new Set(shown.flatMap((r) => Object.keys(r.data ?? {})))].slice(0, MAX_FIELD_COLUMNS);

  const drawRows = () => {
    const cols = fieldColumns();
    replace(
      rows,
      shown.length
        ? table(
            'Records this run would remove',
            [{ text: 'Keep', cls: 'narrow' }, 'Identifier', ...cols, 'Why'],
            shown.map((r) => {
              const id = uid('keep');
              const label = r.identifier ?? r.recordId;
              const box = h('input', {
                type: 'checkbox',
                id,
                checked: r.excluded || keep.has(r.recordId),
                disabled: !canConfirm || r.excluded,
                'aria-label': `Keep ${label}`,
                onchange: (e) => {
                  if (e.target.checked) keep.add(r.recordId);
                  else keep.delete(r.recordId);
                  drawSummary();
                  drawConfirm();
                },
              });
              return h(
                'tr',
                { 'data-record-id': r.recordId, class: r.excluded ? 'row-kept' : null },
                h('td', null, box),
                h('td', null, h('label', { for: id }, label), r.excluded && [' ', badge('kept')]),
                cols.map((c) => h('td', null, cellValue(r.data?.[c]))),
                h('td', { class: 'small' }, r.reason),
              );
            }),
            'review',
          )
        : h('p', { class: 'muted' }, query ? `No held record matches “${query}”.` : 'No records are held.'),
    );
  };

  const load = async (append) => {
    const qs = new URLSearchParams({ limit: String(PAGE) });
    if (query) qs.set('query', query);
    if (append && token) qs.set('pageToken', token);
    try {
      const d = await get(tenantPath(t, `/runs/${encodeURIComponent(runId)}/held-removals?${qs}`));
      shown = append ? [...shown, ...d.records] : d.records;
      token = d.nextPageToken;
      drawRows();
      replace(
        more,
        token &&
          button('Show more', {
            onclick: (e) => busy(e.currentTarget, () => load(true)),
          }),
      );
    } catch (err) {
      showError(err, 'The held records could not be loaded');
    }
  };

  const searchId = uid('q');
  const search = h(
    'form',
    {
      class: 'filter review-search',
      role: 'search',
      onsubmit: (e) => {
        e.preventDefault();
        query = String(new FormData(e.currentTarget).get('q') ?? '').trim();
        void load(false);
      },
    },
    h('label', { for: searchId }, 'Search'),
    h('input', {
      id: searchId,
      name: 'q',
      type: 'search',
      placeholder: 'Email, serial number, name…',
    }),
    h('button', { class: 'btn', type: 'submit' }, 'Search'),
  );

  const confirmBar = h('div', { class: 'actions review-actions' });
  const drawConfirm = () => {
    const total = rm.candidates ?? 0;
    replace(
      confirmBar,
      canConfirm &&
        button(
          keep.size
            ? `Remove ${fmtNum(Math.max(0, total - keep.size))}, keep ${fmtNum(keep.size)}`
            : `Remove all ${fmtNum(total)}`,
          { class: 'btn btn-primary', id: 'confirm-removals', onclick: (e) => confirm(e.currentTarget) },
        ),
      h('a', { class: 'btn btn-ghost', href: `#/t/${t}/runs` }, 'Back to sync runs'),
    );
  };

  const confirm = async (btn) => {
    const total = rm.candidates ?? 0;
    const ok = await confirmDialog({
      title: 'Confirm removals?',
      message: h(
        'p',
        null,
        `A new sync of ${run.mappingName ?? 'this mapping'} runs and marks ${fmtNum(Math.max(0, total - keep.size))} records removed. ` +
          (keep.size
            ? `${fmtNum(keep.size)} you kept stay as they are, and are not held again while they stay gone from the source. `
            : '') +
          'Removed records keep their data and the reason; nothing is deleted.',
      ),
      confirm: 'Confirm and sync',
    });
    if (!ok) return;
    await busy(btn, async () => {
      try {
        const res = await post(tenantPath(t, `/runs/${encodeURIComponent(runId)}/removals/confirm`), {
          exclude: [...keep],
        });
        const said =
          res.message ??
          `Confirmed: ${fmtNum(res.review.approved)} records will be removed by the sync now running${res.review.excluded ? `, ${fmtNum(res.review.excluded)} kept` : ''}.`;
        // Said on the page it opens: a navigation clears the messages of the page it leaves.
        flashNext(() => notify(said));
        navigate(`/t/${t}/runs?mappingId=${encodeURIComponent(run.mappingId)}`);
      } catch (err) {
        showError(
          err,
          err instanceof ApiError && err.status === 409
            ? 'This run can no longer be confirmed'
            : 'The removals could not be confirmed',
        );
      }
    });
  };

  el.append(
    pageHeader('Review removals', null, [
      `${run.mappingName ?? run.mappingId} · run of `,
      time(run.startedAt),
      run.status !== 'held' ? ` · ${run.status}` : '',
    ]),
    card('Held for review', [
      summary,
      h(
        'p',
        { class: 'muted small' },
        'These records were not returned by the source in this run. Tick any that should stay: they are kept, and not held again unless the source lists them again and they disappear once more.',
      ),
      search,
      rows,
      more,
      confirmBar,
    ]),
  );
  drawSummary();
  drawConfirm();
  await load(false);
  return 'Review removals';
}
