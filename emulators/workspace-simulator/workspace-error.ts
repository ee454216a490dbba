/**
 * A mutation the control API rejected; `status` maps straight onto the HTTP status. Its own module so the
 * workspace's stores (users, groups) can throw it without importing each other.
 */
export class WorkspaceError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'WorkspaceError';
  }
}
