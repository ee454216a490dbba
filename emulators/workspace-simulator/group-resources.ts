import { etagFor } from './etag.js';
import type { ApiGroup, ApiMember, GroupRecord, MemberRecord } from './model.js';
import type { Workspace } from './workspace.js';

/**
 * The Group resource in the field order Google serves it. `directMembersCount` is an int64 in the discovery
 * document, and int64s travel as JSON strings. It counts direct member entries: a nested group is one entry,
 * its own members are not counted (the schema's description of the field).
 */
export function renderGroup(ws: Workspace, g: GroupRecord): ApiGroup {
  const local = g.email.slice(0, g.email.indexOf('@'));
  const body: ApiGroup = {
    kind: 'admin#directory#group',
    id: g.id,
    email: g.email,
    name: g.name,
    directMembersCount: String(g.members.length),
    description: g.description,
    adminCreated: g.adminCreated,
  };
  if (g.aliases?.length) body.aliases = [...g.aliases];
  // Every group also answers at the tenant's test-google-a.com address, which the API reports as read-only.
  body.nonEditableAliases = [`${local}@${ws.domain}.test-google-a.com`];
  const etag = etagFor(ws.etagPrefix, body);
  const { kind, id, ...rest } = body;
  return { kind, id, etag, ...rest };
}

/**
 * One Member resource. Emails of users and groups are looked up at render time, so renames show through.
 * CUSTOMER members ("all users in the domain") carry only the customer id, no email or status.
 * Returns undefined for a membership whose user or group no longer exists.
 */
export function renderMember(ws: Workspace, m: MemberRecord): ApiMember | undefined {
  let email: string | undefined;
  let status: string | undefined;
  if (m.type === 'USER') {
    const user = ws.findUser(m.id);
    if (!user) return undefined;
    email = user.primaryEmail;
    status = user.suspended ? 'SUSPENDED' : 'ACTIVE';
  } else if (m.type === 'GROUP') {
    const group = ws.groups.find(m.id);
    if (!group) return undefined;
    email = group.email;
    status = 'ACTIVE';
  } else if (m.type === 'EXTERNAL') {
    email = m.email;
    status = 'ACTIVE';
  }
  const body: ApiMember = { kind: 'admin#directory#member', id: m.id };
  if (email !== undefined) body.email = email;
  body.role = m.role;
  body.type = m.type;
  if (status !== undefined) body.status = status;
  const etag = etagFor(ws.etagPrefix, body);
  const { kind, ...rest } = body;
  return { kind, etag, ...rest };
}
