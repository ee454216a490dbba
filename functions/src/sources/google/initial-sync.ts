import type { App } from '../../app.js';
import { listEnabledMappings } from '../../store/mappings.js';
import { maintainPushChannels } from '../../push/tick.js';

/**
 * Right after connecting, one sync per enabled mapping. The request id carries the OAuth state id, which is
 * single-use, so a repeated callback cannot start a second initial run.
 */
export async function startInitialSync(app: App, tenantId: string, stateId: string): Promise<string[]> {
  const { publishSync } = app.syncDeps();
  const mappings = await listEnabledMappings(app.db, tenantId);
  for (const m of mappings) {
    await publishSync({
      kind: 'sync',
      tenantId,
      mappingId: m.id,
      requestId: `initial:${stateId}:${m.id}`,
      trigger: 'initial',
    });
  }
  // Push channels now rather than at the next tick (a failure is logged; the tick tries again).
  await maintainPushChannels(app, tenantId);
  return mappings.map((m) => m.id);
}
