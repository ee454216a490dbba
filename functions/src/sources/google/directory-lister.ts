import type { OAuth2Client } from 'google-auth-library';
import { lazyDirectoryClient, type admin_directory_v1 } from './directory-client.js';
import { z } from 'zod';
import { ENTITIES, type EntityKind } from '../../../../shared/entities.js';
import type { RuntimeConfig } from '../../platform/config.js';
import { customSchemaNames, listFieldsMask } from './field-mask.js';

export interface DirectoryPage {
  items: Array<Record<string, unknown>>;
  nextPageToken: string | null;
}

export interface ListRequest {
  entity: EntityKind;
  pageToken: string | null;
  sourcePaths: readonly string[];
  pageSize?: number;
  /** users.list search (documented syntax), e.g. a partition's `email:a*`. */
  query?: string;
  /** chromeosdevices.list: only this org unit (path or id), and with includeChildOrgunits its subtree. */
  orgUnitPath?: string;
  includeChildOrgunits?: boolean;
  /**
   * A documented sort (users: `email`; chromeosdevices: `serialNumber`) and its direction. A partitioned pass
   * walks a large partition from both ends at once, which needs one order and its exact reverse.
   */
  order?: { by: 'email' | 'serialNumber'; descending: boolean };
}

/** One page of one entity. The sync loop only needs this, which keeps it testable and the client swappable. */
export interface DirectoryLister {
  listPage(req: ListRequest): Promise<DirectoryPage>;
  /** One page of a group's direct members (members.list; Google's page cap is 200). */
  listGroupMembers(groupId: string, pageToken: string | null): Promise<DirectoryPage>;
  /** One user (by email, alias or id) or Chrome OS device (by deviceId) with the list's field mask; null: 404. */
  getObject?(
    entity: 'users' | 'chromeos',
    key: string,
    sourcePaths: readonly string[],
  ): Promise<Record<string, unknown> | null>;
}

// Responses are validated, but loosely: Google adds fields over time and we must not break on them.
const itemsOf = (key: string) =>
  z
    .object({
      [key]: z.array(z.record(z.string(), z.unknown())).optional(),
      nextPageToken: z.string().optional(),
    })
    .loose();

type Auth = OAuth2Client;

const orderParams = (req: ListRequest) =>
  req.order ? { orderBy: req.order.by, sortOrder: req.order.descending ? 'DESCENDING' : 'ASCENDING' } : {};

export class GoogleDirectoryLister implements DirectoryLister {
  private readonly admin: () => Promise<admin_directory_v1.Admin>;

  constructor(config: RuntimeConfig, auth: Auth) {
    this.admin = lazyDirectoryClient(config, auth);
  }

  async listPage(req: ListRequest): Promise<DirectoryPage> {
    const admin = await this.admin();
    const d = ENTITIES[req.entity];
    const fields = listFieldsMask(req.entity, req.sourcePaths);
    const maxResults =
      d.maxPageSize === null ? undefined : Math.min(req.pageSize ?? d.maxPageSize, d.maxPageSize);
    const pageToken = req.pageToken ?? undefined;
    // Our retry loop owns retries (see backoff.ts).
    const opts = { retry: false };
    let data: unknown;
    switch (req.entity) {
      case 'users': {
        const schemas = customSchemaNames(req.sourcePaths);
        const res = await admin.users.list(
          {
            customer: 'my_customer',
            maxResults,
            pageToken,
            fields,
            ...(req.query ? { query: req.query } : {}),
            ...orderParams(req),
            ...(schemas.length > 0 ? { projection: 'custom', customFieldMask: schemas.join(',') } : {}),
          },
          opts,
        );
        data = res.data;
        break;
      }
      case 'chromeos': {
        const res = await admin.chromeosdevices.list(
          {
            customerId: 'my_customer',
            maxResults,
            pageToken,
            projection: 'FULL',
            fields,
            ...(req.query ? { query: req.query } : {}),
            ...orderParams(req),
            ...(req.orgUnitPath !== undefined
              ? { orgUnitPath: req.orgUnitPath, includeChildOrgunits: req.includeChildOrgunits ?? false }
              : {}),
          },
          opts,
        );
        data = res.data;
        break;
      }
      case 'mobile': {
        const res = await admin.mobiledevices.list(
          { customerId: 'my_customer', maxResults, pageToken, projection: 'FULL', fields },
          opts,
        );
        data = res.data;
        break;
      }
      case 'groups': {
        const res = await admin.groups.list({ customer: 'my_customer', maxResults, pageToken, fields }, opts);
        data = res.data;
        break;
      }
      case 'orgunits': {
        const res = await admin.orgunits.list({ customerId: 'my_customer', type: 'all', fields }, opts);
        data = res.data;
        break;
      }
    }
    const parsed = itemsOf(d.listKey).safeParse(data);
    if (!parsed.success) throw new Error(`unexpected ${d.listKey} list response: ${parsed.error.message}`);
    const items = (parsed.data[d.listKey] ?? []) as Array<Record<string, unknown>>;
    const next = parsed.data.nextPageToken;
    return { items, nextPageToken: typeof next === 'string' && next !== '' ? next : null };
  }

  async getObject(
    entity: 'users' | 'chromeos',
    key: string,
    sourcePaths: readonly string[],
  ): Promise<Record<string, unknown> | null> {
    // The list mask without its list wrapper: `users(a,b)` -> `a,b`.
    const mask = /\((.*)\)$/.exec(listFieldsMask(entity, sourcePaths))?.[1];
    const admin = await this.admin();
    try {
      const res =
        entity === 'users'
          ? await admin.users.get(
              {
                userKey: key,
                ...(mask ? { fields: mask } : {}),
                ...(customSchemaNames(sourcePaths).length > 0
                  ? { projection: 'custom', customFieldMask: customSchemaNames(sourcePaths).join(',') }
                  : {}),
              },
              { retry: false },
            )
          : await admin.chromeosdevices.get(
              {
                customerId: 'my_customer',
                deviceId: key,
                projection: 'FULL',
                ...(mask ? { fields: mask } : {}),
              },
              { retry: false },
            );
      return res.data as Record<string, unknown>;
    } catch (err) {
      if ((err as { response?: { status?: unknown } }).response?.status === 404) return null;
      throw err;
    }
  }

  async listGroupMembers(groupId: string, pageToken: string | null): Promise<DirectoryPage> {
    const admin = await this.admin();
    const res = await admin.members.list(
      {
        groupKey: groupId,
        maxResults: MEMBERS_PAGE_SIZE,
        pageToken: pageToken ?? undefined,
        fields: 'nextPageToken,members(id,email,role,type,status)',
      },
      { retry: false },
    );
    const parsed = itemsOf('members').safeParse(res.data);
    if (!parsed.success) throw new Error(`unexpected members list response: ${parsed.error.message}`);
    const next = parsed.data.nextPageToken;
    return {
      // A group without members has no `members` key at all.
      items: (parsed.data.members ?? []) as Array<Record<string, unknown>>,
      nextPageToken: typeof next === 'string' && next !== '' ? next : null,
    };
  }
}

/** members.list's maximum page size. */
const MEMBERS_PAGE_SIZE = 200;
