import type { DirectoryCall } from './directory-handlers.js';
import { listBody, requireOwnCustomer } from './directory-handlers.js';
import type { PageScope } from './directory-params.js';
import { decodePageToken, encodePageToken } from './directory-params.js';
import { badRequest, forbidden, invalidInput, invalidParameterValue, notFound } from './errors.js';
import { renderGroup, renderMember } from './group-resources.js';
import type { ApiMember, GroupRecord, MemberRecord, MemberRole } from './model.js';
import { takePage } from './paging.js';
import { parseClauses, textMatches } from './query.js';
import type { Workspace } from './workspace.js';

/**
 * groups.list, groups.get and members.list. Page sizes follow the discovery document (maxResults default 200,
 * minimum 1, documented "Max allowed value is 200"); a larger value is served as 200 rather than rejected, as
 * reported in googleapis/google-api-dotnet-client#905 ("Setting more than 200 ... has no effect").
 */
const GROUP_PAGE = 200;

const groupNotFound = () => notFound('Resource Not Found: groupKey');

/** groupKey: id, email or alias; an address in someone else's domain is not ours to show. */
function requireGroup(call: DirectoryCall, groupKey: string): GroupRecord {
  if (groupKey.includes('@') && !call.ws.ownsEmail(groupKey)) throw forbidden();
  const group = call.ws.groups.find(groupKey);
  if (!group) throw groupNotFound();
  return group;
}

/**
 * The cheap part of https://developers.google.com/admin-sdk/directory/v1/guides/search-groups: `email` and
 * `name` with `=` or `:prefix*`, and `memberKey=` (direct membership). Anything else is `400 Invalid Input`.
 */
function compileGroupQuery(ws: Workspace, query: string | undefined): (g: GroupRecord) => boolean {
  if (!query?.trim()) return () => true;
  const preds = parseClauses(query).map((clause): ((g: GroupRecord) => boolean) => {
    const field = clause.field?.toLowerCase();
    if (field === 'email') return (g) => textMatches(g.email, clause);
    if (field === 'name') return (g) => textMatches(g.name, clause);
    if (field === 'memberkey' && clause.op === '=') {
      const ids = memberIdsFor(ws, clause.value);
      return (g) => g.members.some((m) => ids.has(m.id) || m.email === clause.value.toLowerCase());
    }
    throw invalidInput();
  });
  return (g) => preds.every((p) => p(g));
}

/** The member ids a user or group key (email, alias or id) stands for; empty for unknown keys. */
function memberIdsFor(ws: Workspace, key: string): Set<string> {
  const ids = new Set<string>();
  const user = ws.findUser(key);
  if (user) ids.add(user.id);
  const group = ws.groups.find(key);
  if (group) ids.add(group.id);
  return ids;
}

export function listGroups(call: DirectoryCall): Record<string, unknown> {
  const { params } = call;
  const customer = params.get('customer');
  const domain = params.get('domain')?.toLowerCase();
  const userKey = params.get('userKey');
  if (!customer && !domain && !userKey) throw badRequest();
  let ws = call.ws;
  if (customer) ws = requireOwnCustomer(call, customer);
  if (domain && call.state.workspaceForDomain(domain)?.customerId !== ws.customerId) throw forbidden();

  const pageSize = params.maxResults(GROUP_PAGE, GROUP_PAGE, 'clamp');
  const byEmail = params.choice('orderBy', ['email'] as const) === 'email';
  const descending = byEmail && params.descending();
  const matches = compileGroupQuery(ws, params.get('query'));
  let containing: ((g: GroupRecord) => boolean) | undefined;
  if (userKey) {
    const user = ws.findUser(userKey);
    if (!user && ws.ownsEmail(userKey)) throw notFound('Resource Not Found: userKey');
    const ids = user ? new Set([user.id]) : new Set<string>();
    const outside = userKey.toLowerCase();
    containing = (g) => g.members.some((m) => ids.has(m.id) || m.email === outside);
  }
  const inDomain = (g: GroupRecord) => !domain || g.email.endsWith(`@${domain}`);

  const scope: PageScope = {
    resource: 'groups',
    customerId: ws.customerId,
    ordering: `${byEmail ? 'email' : 'id'}:${descending ? 'd' : 'a'}`,
  };
  const cursor = decodePageToken(call.state, params.get('pageToken'), scope, call.expirePageToken);
  const page = takePage(
    ws.groups.view(byEmail, descending),
    cursor,
    (g) => inDomain(g) && (!containing || containing(g)) && matches(g),
    pageSize,
  );
  return listBody(
    'admin#directory#groups',
    'groups',
    ws.etagPrefix,
    page.items.map((g) => renderGroup(ws, g)),
    encodePageToken(call.state, scope, page.next),
  );
}

export function getGroup(call: DirectoryCall, groupKey: string): Record<string, unknown> {
  return renderGroup(call.ws, requireGroup(call, groupKey)) as Record<string, unknown>;
}

const ROLES: readonly MemberRole[] = ['OWNER', 'MANAGER', 'MEMBER'];

/** `roles=OWNER,MANAGER`: a comma-separated subset of the three roles. */
function parseRoles(raw: string | undefined): Set<MemberRole> | undefined {
  if (raw === undefined) return undefined;
  const roles = new Set<MemberRole>();
  for (const part of raw.split(',')) {
    const role = ROLES.find((r) => r === part.trim().toUpperCase());
    if (!role) throw invalidParameterValue('roles', `Invalid value '${raw}' for roles`);
    roles.add(role);
  }
  return roles;
}

export function listMembers(call: DirectoryCall, groupKey: string): Record<string, unknown> {
  const { ws, params } = call;
  const group = requireGroup(call, groupKey);
  const pageSize = params.maxResults(GROUP_PAGE, GROUP_PAGE, 'clamp');
  const roles = parseRoles(params.get('roles'));
  // Accepted and validated, but only direct members are served (the flag's default).
  params.bool('includeDerivedMembership');
  const scope: PageScope = { resource: `members:${group.id}`, customerId: ws.customerId, ordering: 'id:a' };
  const cursor = decodePageToken(call.state, params.get('pageToken'), scope, call.expirePageToken);
  const rendered = new Map<MemberRecord, ApiMember>();
  const page = takePage(
    ws.groups.memberView(group),
    cursor,
    (m) => {
      if (roles && !roles.has(m.role)) return false;
      const r = renderMember(ws, m);
      if (r) rendered.set(m, r);
      return r !== undefined;
    },
    pageSize,
  );
  return listBody(
    'admin#directory#members',
    'members',
    ws.etagPrefix,
    page.items.map((m) => rendered.get(m) as ApiMember),
    encodePageToken(call.state, scope, page.next),
  );
}
