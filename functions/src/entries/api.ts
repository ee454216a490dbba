import * as functions from '@google-cloud/functions-framework';
import { createApiHandler } from '../api/api-handler.js';
import { installFrameworkGuard, servesApiFunction } from '../api/framework-guard.js';
import { app } from '../app.js';

/**
 * The `api` function alone: admin API, OAuth connect/callback, refresh webhook. It loads neither the sync engine
 * nor a Pub/Sub, Secret Manager or Directory client until a route needs one (test/foundation/import-graph.test.ts).
 */
// Before the framework builds its server (it loads this module first): its own errors answer as JSON too.
if (servesApiFunction()) installFrameworkGuard();

let api: ReturnType<typeof createApiHandler> | null = null;
functions.http('api', (req, res) => {
  api ??= createApiHandler(app());
  return api(req, res);
});
