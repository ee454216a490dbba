import type { Route } from './control-http.js';
import { ControlError, parseBody, requireWorkspace, SEG } from './control-http.js';
import { groupUpdateSchema, memberUpdateSchema, newGroupSchema, newMemberSchema } from './control-schemas.js';
import { renderGroup, renderMember } from './group-resources.js';
import type { MemberRecord } from './model.js';
import type { Workspace } from './workspace.js';

function memberBody(ws: Workspace, m: MemberRecord) {
  const rendered = renderMember(ws, m);
  if (!rendered) throw new ControlError(404, `member ${m.id} no longer exists`);
  return rendered;
}

/** Groups and memberships, so tests can change them between syncs. Answers are the API's own resources. */
export const GROUP_ROUTES: Route[] = [
  {
    method: 'POST',
    pattern: new RegExp(`^workspaces/${SEG}/groups$`),
    handle: async (ctx, [ref]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderGroup(ws, ws.groups.add(await parseBody(ctx, newGroupSchema)));
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^workspaces/${SEG}/groups/${SEG}$`),
    handle: async (ctx, [ref, key]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      const group = ws.groups.find(key ?? '');
      if (!group) throw new ControlError(404, `group not found: ${key}`);
      return renderGroup(ws, group);
    },
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^workspaces/${SEG}/groups/${SEG}$`),
    handle: async (ctx, [ref, key]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return renderGroup(ws, ws.groups.update(key ?? '', await parseBody(ctx, groupUpdateSchema)));
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^workspaces/${SEG}/groups/${SEG}$`),
    handle: async (ctx, [ref, key]) => {
      const removed = requireWorkspace(ctx.state, ref ?? '').groups.remove(key ?? '');
      return { removed: removed.id };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^workspaces/${SEG}/groups/${SEG}/members$`),
    handle: async (ctx, [ref, key]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      return memberBody(ws, ws.groups.addMember(key ?? '', await parseBody(ctx, newMemberSchema)));
    },
  },
  {
    method: 'PATCH',
    pattern: new RegExp(`^workspaces/${SEG}/groups/${SEG}/members/${SEG}$`),
    handle: async (ctx, [ref, key, member]) => {
      const ws = requireWorkspace(ctx.state, ref ?? '');
      const input = await parseBody(ctx, memberUpdateSchema);
      return memberBody(ws, ws.groups.updateMember(key ?? '', member ?? '', input));
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^workspaces/${SEG}/groups/${SEG}/members/${SEG}$`),
    handle: async (ctx, [ref, key, member]) => {
      const removed = requireWorkspace(ctx.state, ref ?? '').groups.removeMember(key ?? '', member ?? '');
      return { removed: removed.id };
    },
  },
];
