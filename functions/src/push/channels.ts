import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { listEnabledMappings } from '../store/mappings.js';
import {
  USER_WATCH_EVENTS,
  listActiveChannels,
  markChannelStopped,
  saveChannel,
  setChannelWatched,
  type PushChannel,
} from '../store/push-channels.js';
import { listTenants, readTenant, type TenantDoc } from '../store/tenants.js';
import type { PushDeps } from './push-deps.js';

/**
 * The users.watch channels a tenant has: one per event type (add, delete, makeAdmin, undelete, update) while
 * push is configured, the tenant's Google connection is active and it has an enabled Google users mapping;
 * none otherwise. Run from the scheduler tick (and after connecting): starts what is missing, replaces a
 * channel that expires within PUSH_RENEW_BEFORE_SECONDS (the new one first, so no change falls between them),
 * and stops what is no longer wanted.
 */

export interface ChannelReport {
  started: number;
  renewed: number;
  stopped: number;
  failed: number;
}

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export async function reconcilePushChannels(deps: PushDeps, tenantId?: string): Promise<ChannelReport> {
  const report: ChannelReport = { started: 0, renewed: 0, stopped: 0, failed: 0 };
  const active = await listActiveChannels(deps.db, tenantId);
  const byTenant = new Map<string, PushChannel[]>();
  for (const c of active) byTenant.set(c.tenantId, [...(byTenant.get(c.tenantId) ?? []), c]);
  const tenants = new Map<string, TenantDoc | null>();
  if (tenantId) tenants.set(tenantId, await readTenant(deps.db, tenantId));
  else {
    for await (const { id, tenant } of listTenants(deps.db)) tenants.set(id, tenant);
    for (const id of byTenant.keys()) if (!tenants.has(id)) tenants.set(id, null);
  }
  for (const [id, tenant] of tenants) {
    try {
      await reconcileTenant(deps, id, tenant, byTenant.get(id) ?? [], report);
    } catch (err) {
      report.failed++;
      deps.log.warn('push channels of a tenant could not be maintained', {
        tenantId: id,
        error: String(err),
      });
    }
  }
  if (report.started + report.renewed + report.stopped + report.failed > 0)
    deps.log.info('push channels maintained', { ...report, ...(tenantId ? { tenantId } : {}) });
  return report;
}

async function wanted(deps: PushDeps, tenantId: string, tenant: TenantDoc | null): Promise<boolean> {
  if (!deps.config.push.receiverUrl || !tenant || tenant.status !== 'active') return false;
  const mappings = await listEnabledMappings(deps.db, tenantId);
  return mappings.some((m) => m.source === 'google' && m.entity === 'users');
}

async function reconcileTenant(
  deps: PushDeps,
  tenantId: string,
  tenant: TenantDoc | null,
  channels: PushChannel[],
  report: ChannelReport,
): Promise<void> {
  if (!(await wanted(deps, tenantId, tenant))) {
    for (const c of channels) await stopChannel(deps, c, null, report);
    return;
  }
  const now = deps.clock.now();
  for (const event of USER_WATCH_EVENTS) {
    // Newest first: a duplicate (two ticks raced) is stopped.
    const mine = channels.filter((c) => c.event === event).sort((a, b) => b.expiration - a.expiration);
    const [current, ...extra] = mine;
    for (const c of extra) await stopChannel(deps, c, null, report);
    if (current && current.expiration - now > deps.config.push.renewBeforeMs) continue;
    const next = await startChannel(deps, tenantId, event);
    if (current) {
      await stopChannel(deps, current, next.channelId, report);
      report.renewed++;
    } else report.started++;
  }
}

async function startChannel(
  deps: PushDeps,
  tenantId: string,
  event: PushChannel['event'],
): Promise<PushChannel> {
  const channelId = randomUUID();
  const token = randomBytes(32).toString('base64url');
  const client = await deps.clientFor(tenantId);
  // Stored before Google is asked: Google sends the channel's `sync` message (and may send a change) as soon as
  // it has the channel, often before users.watch has answered. Until the answer is stored the resource id is
  // empty and the token alone authenticates (push/receiver.ts).
  const channel: PushChannel = {
    channelId,
    tenantId,
    event,
    tokenHash: hashToken(token),
    resourceId: '',
    resourceUri: '',
    expiration: deps.clock.now() + deps.config.push.channelTtlSeconds * 1000,
    status: 'active',
    createdAt: new Date(deps.clock.now()).toISOString(),
    stoppedAt: null,
    replacedBy: null,
  };
  await saveChannel(deps.db, channel);
  let answer: Awaited<ReturnType<typeof client.watchUsers>>;
  try {
    answer = await client.watchUsers({
      event,
      channelId,
      token,
      address: deps.config.push.receiverUrl!,
      ttlSeconds: deps.config.push.channelTtlSeconds,
    });
  } catch (err) {
    await markChannelStopped(deps.db, channelId, new Date(deps.clock.now()));
    throw err;
  }
  const watched = {
    resourceId: answer.resourceId,
    resourceUri: answer.resourceUri,
    expiration: answer.expiration,
  };
  await setChannelWatched(deps.db, channelId, watched);
  Object.assign(channel, watched);
  return channel;
}

/**
 * Stops a channel at Google (best effort: a revoked grant or a channel Google already forgot cannot be
 * stopped there) and always here, so the receiver refuses whatever it still delivers.
 */
async function stopChannel(
  deps: PushDeps,
  channel: PushChannel,
  replacedBy: string | null,
  report: ChannelReport,
): Promise<void> {
  try {
    const client = await deps.clientFor(channel.tenantId);
    await client.stopChannel(channel.channelId, channel.resourceId);
  } catch (err) {
    deps.log.info('Google did not stop a push channel; refusing its notifications from now on', {
      tenantId: channel.tenantId,
      channelId: channel.channelId,
      error: String(err),
    });
  }
  await markChannelStopped(deps.db, channel.channelId, new Date(deps.clock.now()), replacedBy);
  if (!replacedBy) report.stopped++;
}

/** Every active channel of a tenant, stopped (Google connection revoked or disconnected). */
export async function stopTenantChannels(deps: PushDeps, tenantId: string): Promise<number> {
  const report: ChannelReport = { started: 0, renewed: 0, stopped: 0, failed: 0 };
  for (const c of await listActiveChannels(deps.db, tenantId)) await stopChannel(deps, c, null, report);
  return report.stopped;
}
