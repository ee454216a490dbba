// "Sync now", live progress of every running sync (this browser's, scheduled ones, other admins'), and the run
// history.
import { ApiError, get, listOf, post, tenantPath } from './api.js';
import {
  badge,
  busy,
  button,
  card,
  fmtDuration,
  fmtNum,
  h,
  pageHeader,
  replace,
  table,
  time,
  uid,
} from './dom.js';
import { navigate } from './router.js';
import { loadTenant, notify, showError } from './shell.js';
import { reviewLink } from './removal-review.js';

const POLL_MS = 1500;
const DONE = ['succeeded', 'succeeded_with_errors', 'failed', 'held'];
/** How often the history is asked for runs started elsewhere (the schedule, another admin, the host product). */
const DISCOVER_MS = 4000;
const COUNTS = ['created', 'updated', 'unchanged', 'removed', 'failed'];
const cap = (s) => s[0]?.toUpperCase() + s.slice(1);

/**
 * Followed runs by runId: module state, so progress survives navigation.
 * @type {Map<string, {t: string, runId: string, mappingId: string, dedup: boolean, run: any, since: number, said: string}>}
 */
const followed = new Map();
/** @type {Set<() => void>} */
const listeners = new Set();
const isDone = (run) => DONE.includes(run?.status);

/** "about 3 min left" from the API's estimate (seconds), or null when it has none yet. */
function timeLeft(seconds) {
  if (typeof seconds !== 'number') return null;
  if (seconds < 60) return 'less than a minute left';
  const min = Math.round(seconds / 60);
  return min < 90 ? `about ${min} min left` : `about ${Math.round(min / 60)} h left`;
}

/**
 * A running run's bar: determinate with percentage and time left when the API can measure it against the
 * mapping's last completed run (`run.progress`), indeterminate for a first sync. Shared with the overview.
 */
export function progressBar(run, labelledBy) {
  const p = run?.progress;
  if (!p || typeof p.percent !== 'number') {
    return [
      h('progress', { 'aria-labelledby': labelledBy }),
      h(
        'div',
        { class: 'progress-figures muted' },
        h('span', null, `${fmtNum(run?.counts?.seen ?? 0)} seen`),
        h('span', null, 'No estimate: this mapping has no completed run to compare with.'),
      ),
    ];
  }
  const left = timeLeft(p.etaSeconds);
  return [
    h('progress', {
      max: 100,
      value: p.percent,
      'aria-labelledby': labelledBy,
      'aria-valuetext': `${p.percent}%${left ? `, ${left}` : ''}`,
    }),
    h(
      'div',
      { class: 'progress-figures' },
      h('strong', { class: 'progress-percent' }, `${p.percent}%`),
      h(
        'span',
        { class: 'muted' },
        `${fmtNum(run.counts?.seen ?? 0)} of about ${fmtNum(p.expectedRecords || p.expectedPages)} ${p.expectedRecords ? 'records' : 'pages'}`,
      ),
      h('span', { class: 'progress-eta' }, left ?? 'estimating time left…'),
    ),
  ];
}

/** Starts following a run found running (started elsewhere) so the progress card shows it live. */
function adopt(t, run) {
  if (followed.has(run.runId) || isDone(run)) return;
  followed.set(run.runId, {
    t,
    runId: run.runId,
    mappingId: run.mappingId,
    dedup: false,
    run,
    since: Date.now(),
    said: '',
  });
  void poll(run.runId);
}

/** Asks the API to sync one mapping (or every enabled one), then follows the runs on the Sync runs page. */
export function startSync(t, btn, mappingId, confirmRemovals = false) {
  return busy(btn, async () => {
    try {
      const res = await post(tenantPath(t, '/sync'), {
        ...(mappingId && { mappingId }),
        ...(confirmRemovals && { confirmRemovals }),
      });
      const runs = listOf(res, 'runs');
      if (!runs.length) return notify('Nothing to sync: no mapping is enabled.', 'info');
      for (const [id, f] of followed) if (isDone(f.run)) followed.delete(id);
      for (const r of runs) {
        if (followed.has(r.runId)) continue;
        followed.set(r.runId, {
          t,
          runId: r.runId,
          mappingId: r.mappingId,
          dedup: !!r.deduplicated,
          run: null,
          since: Date.now(),
          said: '',
        });
        void poll(r.runId);
      }
      navigate(`/t/${t}/runs`);
    } catch (err) {
      showError(err, 'The sync could not be started');
    }
  });
}

/** Polls one run every 1.5 s until it finishes. A 404 means no worker has picked it up yet. */
async function poll(runId) {
  const f = followed.get(runId);
  if (!f) return;
  try {
    const d = await get(tenantPath(f.t, `/runs/${encodeURIComponent(runId)}`));
    f.run = d?.run ?? d;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404) || Date.now() - f.since > 120_000) {
      f.run = { status: 'failed', errors: [{ message: err instanceof Error ? err.message : String(err) }] };
    }
  }
  listeners.forEach((l) => l());
  if (!isDone(f.run)) setTimeout(() => void poll(runId), POLL_MS);
}

const counts = (run, keys) =>
  h(
    'dl',
    { class: 'counts' },
    keys.map((k) =>
      h(
        'div',
        null,
        h('dt', null, cap(k)),
        h('dd', null, fmtNum((k === 'pages' ? run?.pages : run?.counts?.[k]) ?? 0)),
      ),
    ),
  );

/** @type {import('./router.js').View} */
export async function renderRuns(route, el) {
  const t = route.params.t ?? '';
  const only = route.query.get('mappingId') ?? '';
  let limit = 20;
  const [tenant, md] = await Promise.all([loadTenant(t, true), get(tenantPath(t, '/mappings'))]);
  const mappings = listOf(md, 'mappings');
  const names = new Map(mappings.map((m) => [m.id, m.name]));
  const nameOf = (r) => r?.mappingName ?? names.get(r?.mappingId) ?? r?.mappingId;

  const live = h('p', { class: 'visually-hidden', role: 'status' });
  const list = h('ul', { class: 'progress-list' });
  const progress = card('Sync progress', [list, live]);
  progress.id = 'sync-progress';
  const history = h('div');

  const drawProgress = () => {
    const mine = [...followed.values()].filter((f) => f.t === t);
    progress.hidden = !mine.length;
    const said = [];
    replace(
      list,
      mine.map((f) => {
        const run = f.run;
        const name = nameOf(run ?? f);
        const status = run?.status ?? 'queued';
        const id = uid('p');
        // The live region only hears starts and finishes, not every page.
        const text = !isDone(run)
          ? `Sync of ${name} is running.`
          : status === 'succeeded' || status === 'succeeded_with_errors'
            ? `Sync of ${name} finished${status === 'succeeded_with_errors' ? ' with errors' : ''}: ${COUNTS.map((k) => `${run.counts?.[k] ?? 0} ${k}`).join(', ')}.`
            : `Sync of ${name} ${status === 'held' ? 'finished; removals are held for review' : 'failed'}.`;
        if (text !== f.said) said.push((f.said = text));
        return h(
          'li',
          { class: 'progress-item', 'data-run-id': f.runId, 'aria-labelledby': id },
          h(
            'div',
            { class: 'actions' },
            h('strong', { id }, name),
            badge(status),
            f.dedup && h('span', { class: 'muted small' }, 'was already running; following that run'),
          ),
          !isDone(run) && progressBar(run, id),
          counts(run, ['pages', 'seen', ...COUNTS]),
          isDone(run) &&
            h(
              'p',
              { class: 'muted small' },
              status === 'held'
                ? run.removal?.message
                : status === 'failed'
                  ? run.errors?.at(-1)?.message
                  : status === 'succeeded_with_errors'
                    ? `Finished in ${fmtDuration(run.durationMs)}; ${fmtNum(run.counts?.failed ?? 0)} records could not be written (see Details below).`
                    : `Finished in ${fmtDuration(run.durationMs)}.`,
            ),
        );
      }),
    );
    if (said.length) live.textContent = said.join(' ');
  };

  let attached = false;
  const doneCount = () => [...followed.values()].filter((f) => f.t === t && isDone(f.run)).length;
  let done = doneCount();
  const listener = () => {
    if (el.isConnected) attached = true;
    else if (attached) return listeners.delete(listener);
    drawProgress();
    // A followed run finished: its final counts belong in the history too.
    if (doneCount() > done) void loadHistory();
    done = doneCount();
  };
  listeners.add(listener);

  const loadHistory = async () => {
    const qs = new URLSearchParams({ limit: String(limit), ...(only && { mappingId: only }) });
    try {
      const runs = listOf(await get(tenantPath(t, `/runs?${qs}`)), 'runs');
      // Runs started elsewhere (the schedule, another admin, the host product) are followed live too.
      for (const r of runs) if (r.status === 'running') adopt(t, r);
      drawProgress();
      replace(
        history,
        runs.length ? historyTable(t, runs, nameOf) : h('p', { class: 'muted' }, 'No syncs have run yet.'),
        runs.length >= limit &&
          h('p', { class: 'more' }, button('Show more', { onclick: () => ((limit += 20), loadHistory()) })),
      );
    } catch (err) {
      showError(err, 'The run history could not be loaded');
    }
  };

  /** Asks for the newest runs; a run newly found running is followed, and the history redrawn to show it. */
  const discoverRuns = async () => {
    try {
      const runs = listOf(await get(tenantPath(t, '/runs?limit=10')), 'runs');
      const fresh = runs.filter((r) => r.status === 'running' && !followed.has(r.runId));
      if (fresh.length) await loadHistory();
    } catch {
      // The next round asks again; a lasting problem shows when the page is reloaded.
    }
  };

  const fid = uid('f');
  el.append(
    pageHeader(
      'Sync runs',
      button(only ? `Sync ${names.get(only) ?? 'mapping'} now` : 'Sync all now', {
        class: 'btn btn-primary',
        'data-needs': 'write',
        disabled: tenant.status !== 'active' || !mappings.length,
        onclick: (e) => startSync(t, e.currentTarget, only || undefined),
      }),
      'Syncs run on the schedule and whenever you start one. Records that disappear from Google Workspace are marked removed, never deleted.',
    ),
    progress,
    card('History', [
      h(
        'div',
        { class: 'filter' },
        h('label', { for: fid }, 'Mapping'),
        h(
          'select',
          {
            id: fid,
            onchange: (e) =>
              navigate(
                `/t/${t}/runs${e.target.value ? `?mappingId=${encodeURIComponent(e.target.value)}` : ''}`,
              ),
          },
          h('option', { value: '' }, 'All mappings'),
          mappings.map((m) => h('option', { value: m.id, selected: m.id === only }, m.name)),
        ),
      ),
      history,
    ]),
  );
  drawProgress();
  await loadHistory();
  // Look for new runs while this page is shown; stops once it is left (or if it never was shown).
  const rendered = Date.now();
  let shown = false;
  const discover = setInterval(() => {
    if (!el.isConnected) {
      if (shown || Date.now() - rendered > 60_000) clearInterval(discover);
      return;
    }
    shown = true;
    if (document.visibilityState === 'visible') void discoverRuns();
  }, DISCOVER_MS);
  return 'Sync runs';
}

/** The history table; each run has a Details row (errors, removal check), open for held runs. */
function historyTable(t, runs, nameOf) {
  const num = (v) => h('td', { class: 'num' }, fmtNum(v ?? 0));
  const numHead = (text) => ({ text, cls: 'num' });
  return table(
    'Run history',
    [
      'Started',
      'Mapping',
      'Status',
      ...COUNTS.map((k) => numHead(cap(k))),
      numHead('Pages'),
      numHead('Duration'),
      h('span', { class: 'visually-hidden' }, 'Details'),
    ],
    runs.flatMap((run) => {
      const c = run.counts ?? {};
      const errors = run.errors ?? [];
      const held = run.status === 'held';
      const id = uid('run');
      const details = h(
        'tr',
        { class: 'details-row', id, hidden: !held },
        h('td', { colspan: 11 }, runDetails(t, run, errors)),
      );
      const toggle = button(errors.length ? `Details (${errors.length})` : 'Details', {
        class: 'btn btn-small btn-ghost',
        'aria-label': `Details${errors.length ? `, ${errors.length} ${errors.length > 1 ? 'errors' : 'error'}` : ''}`,
        'aria-expanded': String(held),
        'aria-controls': id,
        onclick: () =>
          toggle.setAttribute('aria-expanded', String((details.hidden = !details.hidden) === false)),
      });
      return [
        h(
          'tr',
          { 'data-run-id': run.runId, class: held && 'row-held' },
          h('td', null, time(run.startedAt), h('div', { class: 'muted small' }, run.trigger)),
          h('td', null, nameOf(run)),
          h('td', null, badge(run.status)),
          COUNTS.map((k) => num(c[k])),
          num(run.pages),
          h('td', { class: 'num' }, fmtDuration(run.durationMs)),
          h('td', null, toggle),
        ),
        details,
      ];
    }),
    'runs',
  );
}

function runDetails(t, run, errors) {
  const rm = run.removal;
  const c = run.counts ?? {};
  return [
    run.status === 'held' &&
      h(
        'div',
        { class: 'alert t-warn' },
        h(
          'div',
          null,
          h('strong', null, 'Removals held for review'),
          h(
            'p',
            null,
            rm?.message ??
              'This sync would remove more records than the safety threshold allows. Nothing was removed.',
            run.review &&
              ` Confirmed by ${run.review.confirmedBy}: ${run.review.approved} removed, ${run.review.excluded} kept.`,
          ),
        ),
        reviewLink(t, run.runId, run.review ? 'See the review' : 'Review removals'),
      ),
    errors.length
      ? [
          h('h3', null, 'Errors'),
          h(
            'ul',
            { class: 'errors' },
            errors.map((x) => h('li', null, x.at && [time(x.at), ' — '], x.message)),
          ),
        ]
      : h('p', { class: 'muted' }, 'No errors.'),
    h(
      'p',
      { class: 'small' },
      `Run ${run.runId} · seen ${fmtNum(c.seen ?? 0)} · skipped (no identifier) ${fmtNum(c.skipped ?? 0)} · outside the org units ${fmtNum(c.outOfScope ?? 0)} · API retries ${fmtNum(run.apiRetries ?? 0)}`,
      rm && !rm.held
        ? ` · removal check ${rm.candidates} of ${rm.previousRecords} (${rm.sharePercent}%, threshold ${rm.thresholdPercent}%)`
        : '',
      run.objectId && [
        ' · ',
        h(
          'a',
          { href: `#/t/${t}/records/${encodeURIComponent(run.objectId)}?status=removed` },
          `removed records in ${run.objectId}`,
        ),
      ],
    ),
  ];
}
