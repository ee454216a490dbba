/**
 * What can go wrong when an admin connects Google Workspace, as codes the console shows next to a clear
 * message. Messages are fixed text plus names of scopes and domains: never a code, token or verifier.
 */
export const CONNECT_ERRORS = {
  invalid_state: 'This sign-in link is not valid. Start the connection again from the console.',
  state_replayed: 'This sign-in link was already used. Start the connection again from the console.',
  state_expired: 'The connection was not completed within 10 minutes. Start it again from the console.',
  browser_mismatch:
    'This connection was started in another browser or by another admin. Start it again from the console, in this browser.',
  tenant_mismatch:
    'This browser has since started a connection for another tenant. Start the connection again.',
  not_authorized: 'You are no longer an owner or admin of this tenant.',
  access_denied: 'Access was not granted on the Google consent screen, so nothing was connected.',
  google_error: 'Google reported an error during sign-in. Try again.',
  missing_scopes:
    'Not all requested permissions were granted, so nothing was changed. Grant every permission listed on the consent screen.',
  revoke_failed:
    'Google did not confirm that the wider authorization was revoked, so nothing was changed. Turn device management off again.',
  narrowing_failed:
    'The device-management authorization was revoked, but the read-only one did not complete. Connect Google Workspace again.',
  not_connected: 'This tenant is no longer connected to Google Workspace, so nothing was changed.',
  no_refresh_token: 'Google did not issue offline access. Start the connection again.',
  exchange_failed: 'Google did not accept the sign-in (it may have expired). Start the connection again.',
  not_workspace_admin:
    'The account that signed in could not read the Google Workspace directory. Sign in with a Google Workspace administrator.',
  customer_mismatch:
    'This tenant is connected to a different Google Workspace organization. Sign in with an administrator of that organization.',
  storage_failed: 'The authorization could not be stored safely, so nothing was connected. Try again.',
  internal: 'Something went wrong on our side while connecting. Try again.',
  client_changed:
    "The tenant's OAuth client was changed while you were on Google's consent screen. Start the connection again.",
  no_tenant_client: "Save your OAuth client's Client ID and Client Secret first, then authorize with it.",
  invalid_client:
    "Google refused the OAuth client's Client ID or Client Secret (invalid_client). In the Google Cloud console, open APIs & Services > Credentials, copy the client's ID and secret again and save them here.",
  redirect_uri_mismatch:
    'Google refused the redirect URI (redirect_uri_mismatch). In the Google Cloud console, add the redirect URI the console shows under the OAuth client\'s "Authorized redirect URIs".',
} as const;

export type ConnectErrorCode = keyof typeof CONNECT_ERRORS;

export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    readonly code: ConnectErrorCode,
    readonly tenantId: string | null,
    /** Short names of the scopes that were not granted, for missing_scopes. */
    readonly missingScopes: string[] = [],
    detail?: string,
  ) {
    super(detail ? `${CONNECT_ERRORS[code]} (${detail})` : CONNECT_ERRORS[code]);
  }
}

/** `https://www.googleapis.com/auth/admin.directory.user.readonly` -> `admin.directory.user.readonly`. */
export const shortScope = (scope: string) => scope.replace(/^https:\/\/www\.googleapis\.com\/auth\//, '');
