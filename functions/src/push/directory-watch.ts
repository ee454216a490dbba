import type { OAuth2Client } from 'google-auth-library';
import { z } from 'zod';
import type { RuntimeConfig } from '../platform/config.js';
import { lazyDirectoryClient } from '../sources/google/directory-client.js';
import { classifyDirectoryError } from '../sources/google/directory-errors.js';
import { customSchemaNames, listFieldsMask } from '../sources/google/field-mask.js';
import type { UserWatchEvent } from '../store/push-channels.js';

/** The Directory calls push needs: users.watch, channels.stop and users.get. Tests may swap it. */
export interface DirectoryWatchClient {
  watchUsers(req: {
    event: UserWatchEvent;
    channelId: string;
    token: string;
    address: string;
    ttlSeconds: number;
  }): Promise<{ resourceId: string; resourceUri: string; expiration: number }>;
  stopChannel(channelId: string, resourceId: string): Promise<void>;
  /** The user as users.get answers it with the mapping's fields; null when Google says 404 (deleted). */
  getUser(userId: string, sourcePaths: readonly string[]): Promise<Record<string, unknown> | null>;
}

// Google's answer to users.watch is a Channel (discovery Schema$Channel); expiration is a string of ms.
const channelAnswer = z
  .object({
    resourceId: z.string().min(1),
    resourceUri: z.string().default(''),
    expiration: z.coerce.number().int().positive(),
  })
  .loose();

export function directoryWatchClient(config: RuntimeConfig, auth: OAuth2Client): DirectoryWatchClient {
  // Loaded on the first call (sources/google/directory-client.ts): the receiver itself never calls Google.
  const directory = lazyDirectoryClient(config, auth);
  // The engine's loop (or the tick) owns retries.
  const opts = { retry: false };
  return {
    async watchUsers(req) {
      const res = await (
        await directory()
      ).users.watch(
        {
          customer: 'my_customer',
          event: req.event,
          requestBody: {
            id: req.channelId,
            type: 'web_hook',
            address: req.address,
            token: req.token,
            params: { ttl: String(req.ttlSeconds) },
          },
        },
        opts,
      );
      const parsed = channelAnswer.safeParse(res.data);
      if (!parsed.success) throw new Error(`unexpected users.watch answer: ${parsed.error.message}`);
      return parsed.data;
    },
    async stopChannel(channelId, resourceId) {
      await (await directory()).channels.stop({ requestBody: { id: channelId, resourceId } }, opts);
    },
    async getUser(userId, sourcePaths) {
      // The list mask is `nextPageToken,users(a,b)`; a get selects the inside.
      const mask = /users\((.*)\)$/.exec(listFieldsMask('users', sourcePaths))?.[1];
      const schemas = customSchemaNames(sourcePaths);
      try {
        const res = await (
          await directory()
        ).users.get(
          {
            userKey: userId,
            ...(mask ? { fields: mask } : {}),
            ...(schemas.length > 0 ? { projection: 'custom', customFieldMask: schemas.join(',') } : {}),
          },
          opts,
        );
        const user = z.record(z.string(), z.unknown()).safeParse(res.data);
        if (!user.success) throw new Error('unexpected users.get answer');
        return user.data;
      } catch (err) {
        const c = classifyDirectoryError(err);
        if (c.kind === 'fatal' && c.status === 404) return null;
        throw err;
      }
    },
  };
}
