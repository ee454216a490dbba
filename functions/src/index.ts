/**
 * Every function, registered in one process (the local stack, tests). A deployed instance imports main.ts,
 * which registers only its own function; each entry lives in entries/:
 *   api         HTTP: admin API, OAuth connect/callback, refresh webhook (behind the console's /api rewrite)
 *   tick        Pub/Sub (Cloud Scheduler's topic) -> one sync message per tenant x mapping
 *   syncEntity  Pub/Sub -> one tenant/mapping sync invocation of the engine (resumable), for any source
 *   deadLetter  Pub/Sub (the dead-letter topic) -> records what Pub/Sub gave up on; ends a run it left running
 *   deliverNotifications  Pub/Sub (the notifications topic) -> signed webhooks and email of one outbox event
 */
import './entries/api.js';
import './entries/tick.js';
import './entries/syncEntity.js';
import './entries/deadLetter.js';
import './entries/deliverNotifications.js';
