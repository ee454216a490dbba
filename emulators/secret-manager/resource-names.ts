import { invalidArgument, unimplemented } from '../grpc-support/rpc-error.js';

export const LATEST_ALIAS = 'latest';

const PROJECT = /^projects\/([^/]+)$/;
const SECRET = /^projects\/([^/]+)\/secrets\/([^/]+)$/;
const SECRET_VERSION = /^projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/]+)$/;
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
const VERSION_ID = /^[1-9][0-9]{0,17}$/;
const PROJECT_ID = /^[a-z0-9][a-z0-9:.-]{0,99}$/;

export interface SecretName {
  project: string;
  secretId: string;
}

export interface SecretVersionName extends SecretName {
  /** A positive version number, or 'latest'. */
  version: number | typeof LATEST_ALIAS;
}

export function formatSecretName({ project, secretId }: SecretName): string {
  return `projects/${project}/secrets/${secretId}`;
}

export function formatSecretVersionName(secret: SecretName, version: number): string {
  return `${formatSecretName(secret)}/versions/${version}`;
}

// Regional secrets live under a different endpoint (secretmanager.LOCATION.rep.googleapis.com);
// saying so beats a confusing "does not match the expected format".
function rejectRegional(value: string): void {
  if (/^projects\/[^/]+\/locations\//.test(value)) {
    throw unimplemented(`Regional secrets are not supported by the Secret Manager emulator: [${value}].`);
  }
}

function mismatch(what: string, value: string, format: string) {
  return invalidArgument(`The provided ${what} [${value}] does not match the expected format [${format}]`);
}

export function parseProjectName(value: string): string {
  rejectRegional(value);
  const match = PROJECT.exec(value);
  const project = match?.[1];
  if (project === undefined || !PROJECT_ID.test(project)) throw mismatch('Project', value, 'projects/*');
  return project;
}

export function parseSecretId(value: string): string {
  if (!SECRET_ID.test(value)) throw mismatch('Secret ID', value, '[a-zA-Z_0-9-]{1,255}');
  return value;
}

export function parseSecretName(value: string): SecretName {
  rejectRegional(value);
  const match = SECRET.exec(value);
  const [, project, secretId] = match ?? [];
  if (project === undefined || secretId === undefined || !SECRET_ID.test(secretId)) {
    throw mismatch('Secret ID', value, 'projects/*/secrets/*');
  }
  return { project, secretId };
}

export function parseSecretVersionName(value: string): SecretVersionName {
  rejectRegional(value);
  const match = SECRET_VERSION.exec(value);
  const [, project, secretId, version] = match ?? [];
  const valid =
    project !== undefined &&
    secretId !== undefined &&
    SECRET_ID.test(secretId) &&
    version !== undefined &&
    (version === LATEST_ALIAS || VERSION_ID.test(version));
  if (!valid) throw mismatch('Secret Version ID', value, 'projects/*/secrets/*/versions/*');
  return { project, secretId, version: version === LATEST_ALIAS ? LATEST_ALIAS : Number(version) };
}
