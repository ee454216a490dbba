/**
 * `tenants/{t}/runs/{runId}`: the history of sync runs. The engine creates a run once and updates it as the run
 * goes; the API reads it.
 */
export {};
