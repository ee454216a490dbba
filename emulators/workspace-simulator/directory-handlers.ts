import { chromeSortKey, mobileSortKey, renderChromeOs, renderMobile } from './device-resources.js';
import type { DeviceProjection } from './device-resources.js';
import type { DirectoryParams, PageScope } from './directory-params.js';
import { decodePageToken, encodePageToken } from './directory-params.js';
import { badRequest, forbidden, invalidParameterValue, notFound } from './errors.js';
import { listEtag } from './etag.js';
import type { ApiCustomer, ApiOrgUnit, OrgUnitRecord, UserRecord } from './model.js';
import { takePage } from './paging.js';
import { compileChromeOsQuery, compileMobileQuery, compileUserQuery } from './query.js';
import type { SimulatorState } from './state.js';
import type { UserProjection } from './user-resource.js';
import { renderUser } from './user-resource.js';
import type { ChromeOsOrder, MobileOrder, UserOrder, Workspace } from './workspace.js';

/** What every Directory handler gets: the caller's own workspace, its query parameters and page-token faults. */
export interface DirectoryCall {
  state: SimulatorState;
  /** The workspace of the access token's admin. */
  ws: Workspace;
  params: DirectoryParams;
  /** Set by the expiredPageToken fault. */
  expirePageToken: boolean;
  /** The parsed JSON request body of a write (undefined for GET). */
  body: unknown;
}

/** `my_customer` or the caller's own id; anything else is someone else's tenant. */
export function requireOwnCustomer(call: DirectoryCall, customer: string): Workspace {
  if (customer === 'my_customer' || customer === call.ws.customerId) return call.ws;
  throw forbidden();
}

export function listBody(
  kind: string,
  key: string,
  etagPrefix: string,
  items: Array<{ etag?: string | null }>,
  next?: string,
) {
  const body: Record<string, unknown> = {
    kind,
    etag: listEtag(
      etagPrefix,
      items.map((i) => i.etag ?? ''),
      next ?? '',
    ),
  };
  // Google omits empty arrays entirely: a list with no results has no `users` key at all.
  if (items.length > 0) body[key] = items;
  if (next) body['nextPageToken'] = next;
  return body;
}

// ------------------------------------------------------------------ users

function userProjection(params: DirectoryParams): { projection: UserProjection; mask: string[] | undefined } {
  const projection = params.choice('projection', ['basic', 'full', 'custom'] as const) ?? 'basic';
  const mask = params
    .get('customFieldMask')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (projection === 'custom' && !mask?.length) {
    throw invalidParameterValue(
      'customFieldMask',
      'Invalid Input: customFieldMask is required when projection=custom',
    );
  }
  return { projection, mask };
}

export function listUsers(call: DirectoryCall): Record<string, unknown> {
  const { params } = call;
  const customer = params.get('customer');
  const domain = params.get('domain')?.toLowerCase();
  if (!customer && !domain) throw badRequest();
  let ws = call.ws;
  if (customer) ws = requireOwnCustomer(call, customer);
  if (domain && call.state.workspaceForDomain(domain)?.customerId !== ws.customerId) throw forbidden();

  const pageSize = params.maxResults(100, 500, 'clamp');
  const orderBy = params.choice('orderBy', ['email', 'familyName', 'givenName'] as const);
  const descending = orderBy !== undefined && params.descending();
  const { projection, mask } = userProjection(params);
  const viewType = params.choice('viewType', ['admin_view', 'domain_public'] as const) ?? 'admin_view';
  const showDeleted = params.bool('showDeleted') ?? false;
  const matches = compileUserQuery(ws, params.get('query'));
  const inDomain = (u: UserRecord) => !domain || u.primaryEmail.endsWith(`@${domain}`);

  const scope: PageScope = {
    resource: 'users',
    customerId: ws.customerId,
    ordering: `${orderBy ?? 'id'}:${descending ? 'd' : 'a'}:${showDeleted ? 'deleted' : 'live'}`,
  };
  const cursor = decodePageToken(call.state, params.get('pageToken'), scope, call.expirePageToken);
  const view = ws.userView((orderBy ?? 'id') as UserOrder, descending);
  const page = takePage(
    view,
    cursor,
    (u) =>
      (showDeleted ? u.deletionTime !== undefined : u.deletionTime === undefined) &&
      inDomain(u) &&
      matches(u),
    pageSize,
  );
  const users = page.items.map((u) => renderUser(ws, u, { projection, customFieldMask: mask, viewType }));
  return listBody(
    'admin#directory#users',
    'users',
    ws.etagPrefix,
    users,
    encodePageToken(call.state, scope, page.next),
  );
}

export function getUser(call: DirectoryCall, userKey: string): Record<string, unknown> {
  const { ws, params } = call;
  if (userKey.includes('@') && !ws.ownsEmail(userKey)) throw forbidden();
  const user = ws.findUser(userKey);
  if (!user) throw notFound('Resource Not Found: userKey');
  const { projection, mask } = userProjection(params);
  const viewType = params.choice('viewType', ['admin_view', 'domain_public'] as const) ?? 'admin_view';
  return renderUser(ws, user, { projection, customFieldMask: mask, viewType }) as Record<string, unknown>;
}

// ------------------------------------------------------------------ org units

export function renderOrgUnit(ws: Workspace, ou: OrgUnitRecord): ApiOrgUnit {
  const isRoot = ou.parentId === null;
  const body: ApiOrgUnit = {
    kind: 'admin#directory#orgUnit',
    name: isRoot ? ws.domain : ou.name,
    orgUnitPath: ws.ouPath(ou.orgUnitId),
    orgUnitId: ou.orgUnitId,
  };
  if (ou.description) body.description = ou.description;
  if (!isRoot && ou.parentId) {
    body.parentOrgUnitPath = ws.ouPath(ou.parentId);
    body.parentOrgUnitId = ou.parentId;
  }
  body.blockInheritance = false;
  const etag = listEtag(ws.etagPrefix, [JSON.stringify(body)]);
  const { kind, ...rest } = body;
  return { kind, etag, ...rest };
}

const ouNotFound = () => notFound('Org unit not found');

export function listOrgUnits(call: DirectoryCall, customer: string): Record<string, unknown> {
  const ws = requireOwnCustomer(call, customer);
  const type = call.params.choice('type', [
    'all',
    'children',
    'allIncludingParent',
    'ALL_INCLUDING_PARENT',
  ] as const);
  const parentRef = call.params.get('orgUnitPath') ?? '/';
  const parent = ws.resolveOrgUnit(parentRef);
  if (!parent) throw ouNotFound();
  let units: OrgUnitRecord[];
  if (type === 'all' || type === 'allIncludingParent' || type === 'ALL_INCLUDING_PARENT') {
    const ids = ws.subtreeIds(parent.orgUnitId);
    if (type === 'all') ids.delete(parent.orgUnitId);
    units = ws.allOrgUnits().filter((o) => ids.has(o.orgUnitId));
  } else {
    units = ws.childrenOf(parent.orgUnitId);
  }
  const rendered = units
    .map((o) => renderOrgUnit(ws, o))
    .sort((a, b) => ((a.orgUnitPath ?? '') < (b.orgUnitPath ?? '') ? -1 : 1));
  return listBody('admin#directory#orgUnits', 'organizationUnits', ws.etagPrefix, rendered);
}

export function getOrgUnit(call: DirectoryCall, customer: string, ref: string): Record<string, unknown> {
  const ws = requireOwnCustomer(call, customer);
  const ou = ws.resolveOrgUnit(ref);
  if (!ou) throw ouNotFound();
  return renderOrgUnit(ws, ou) as Record<string, unknown>;
}

// ------------------------------------------------------------------ chromeos

const CHROME_ORDERS = [
  'annotatedLocation',
  'annotatedUser',
  'lastSync',
  'notes',
  'serialNumber',
  'status',
  'supportEndDate',
] as const;

export function deviceProjection(params: DirectoryParams): DeviceProjection {
  return params.choice('projection', ['BASIC', 'FULL'] as const) ?? 'FULL';
}

export function listChromeOs(call: DirectoryCall, customer: string): Record<string, unknown> {
  const ws = requireOwnCustomer(call, customer);
  const { params } = call;
  const pageSize = params.maxResults(100, 300, 'reject');
  const orderBy = params.choice('orderBy', CHROME_ORDERS);
  const descending = orderBy !== undefined && params.descending();
  const projection = deviceProjection(params);
  const includeChildren = params.bool('includeChildOrgunits') ?? false;
  const ouRef = params.get('orgUnitPath');
  if (includeChildren && !ouRef) {
    throw invalidParameterValue(
      'includeChildOrgunits',
      'Invalid Input: includeChildOrgunits requires orgUnitPath',
    );
  }
  let ouIds: Set<string> | undefined;
  if (ouRef) {
    const ou = ws.resolveOrgUnit(ouRef);
    if (!ou) throw invalidParameterValue('orgUnitPath', 'Invalid Input: orgUnitPath');
    ouIds = includeChildren ? ws.subtreeIds(ou.orgUnitId) : new Set([ou.orgUnitId]);
  }
  const matches = compileChromeOsQuery(params.get('query'));
  const scope: PageScope = {
    resource: 'chromeos',
    customerId: ws.customerId,
    ordering: `${orderBy ?? 'deviceId'}:${descending ? 'd' : 'a'}`,
  };
  const cursor = decodePageToken(call.state, params.get('pageToken'), scope, call.expirePageToken);
  const order = (orderBy ?? 'deviceId') as ChromeOsOrder;
  const view = ws.chromeOsView(order, descending, chromeSortKey(ws, order));
  const page = takePage(view, cursor, (d) => (!ouIds || ouIds.has(d.ouId)) && matches(d), pageSize);
  const devices = page.items.map((d) => renderChromeOs(ws, d, projection));
  return listBody(
    'admin#directory#chromeosdevices',
    'chromeosdevices',
    ws.etagPrefix,
    devices,
    encodePageToken(call.state, scope, page.next),
  );
}

export function getChromeOs(
  call: DirectoryCall,
  customer: string,
  deviceId: string,
): Record<string, unknown> {
  const ws = requireOwnCustomer(call, customer);
  const device = ws.findChromeOs(deviceId);
  if (!device) throw notFound('Resource Not Found: deviceId');
  return renderChromeOs(ws, device, deviceProjection(call.params)) as Record<string, unknown>;
}

// ------------------------------------------------------------------ mobile

const MOBILE_ORDERS = ['deviceId', 'email', 'lastSync', 'model', 'name', 'os', 'status', 'type'] as const;

export function listMobile(call: DirectoryCall, customer: string): Record<string, unknown> {
  const ws = requireOwnCustomer(call, customer);
  const { params } = call;
  const pageSize = params.maxResults(100, 100, 'reject');
  const orderBy = params.choice('orderBy', MOBILE_ORDERS);
  const descending = orderBy !== undefined && params.descending();
  const projection = deviceProjection(params);
  const matches = compileMobileQuery(params.get('query'));
  const scope: PageScope = {
    resource: 'mobile',
    customerId: ws.customerId,
    ordering: `${orderBy ?? 'resourceId'}:${descending ? 'd' : 'a'}`,
  };
  const cursor = decodePageToken(call.state, params.get('pageToken'), scope, call.expirePageToken);
  const order = (orderBy ?? 'resourceId') as MobileOrder;
  const view = ws.mobileView(order, descending, mobileSortKey(order));
  const page = takePage(view, cursor, matches, pageSize);
  const devices = page.items.map((d) => renderMobile(ws, d, projection));
  return listBody(
    'admin#directory#mobiledevices',
    'mobiledevices',
    ws.etagPrefix,
    devices,
    encodePageToken(call.state, scope, page.next),
  );
}

export function getMobile(
  call: DirectoryCall,
  customer: string,
  resourceId: string,
): Record<string, unknown> {
  const ws = requireOwnCustomer(call, customer);
  const device = ws.findMobile(resourceId);
  if (!device) throw notFound('Resource Not Found: resourceId');
  return renderMobile(ws, device, deviceProjection(call.params)) as Record<string, unknown>;
}

// ------------------------------------------------------------------ customers

export function getCustomer(call: DirectoryCall, customerKey: string): Record<string, unknown> {
  const ws = requireOwnCustomer(call, customerKey);
  const body: ApiCustomer = {
    kind: 'admin#directory#customer',
    id: ws.customerId,
    customerDomain: ws.domain,
    alternateEmail: `it-alerts@${ws.domain.replace(/\.[^.]+$/, '')}.example.net`,
    customerCreationTime: new Date(ws.customerCreationTime).toISOString(),
    language: 'en',
    phoneNumber: '+15555550100',
    postalAddress: {
      organizationName: ws.domain,
      contactName: 'Workspace Admin',
      addressLine1: '1200 Lincoln Ave',
      locality: 'Springfield',
      region: 'IL',
      postalCode: '62701',
      countryCode: 'US',
    },
  };
  const etag = listEtag(ws.etagPrefix, [JSON.stringify(body)]);
  const { kind, id, ...rest } = body;
  return { kind, id, etag, ...rest };
}
