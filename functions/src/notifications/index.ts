/**
 * Outbound notifications: what other code calls. `emitTenantEvent` writes an event to the tenant's outbox and
 * publishes it for the deliverNotifications function (signed webhook, email); see README "Notifications".
 */
export { emitTenantEvent, emitTenantEventSafely, type NotifyDeps } from './emit.js';
export { EVENT_TYPES, type EventType, type TenantEvent } from './events.js';
