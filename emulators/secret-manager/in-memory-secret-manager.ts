import { randomBytes } from 'node:crypto';
import { crc32c } from './crc32c.js';
import { compileFilter, type FilterFields } from './filter.js';
import { paginate } from './paging.js';
import {
  LATEST_ALIAS,
  formatSecretName,
  formatSecretVersionName,
  parseProjectName,
  parseSecretId,
  parseSecretName,
  parseSecretVersionName,
} from './resource-names.js';
import {
  aborted,
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
} from '../grpc-support/rpc-error.js';
import type {
  AccessSecretVersionResponse,
  AddSecretVersionRequest,
  CreateSecretRequest,
  EtagGuardedRequest,
  ListRequest,
  ListSecretVersionsResponse,
  ListSecretsResponse,
  NameRequest,
  Replication,
  Secret,
  SecretVersion,
  Timestamp,
  VersionState,
} from './wire-types.js';

export const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_LABELS = 64;
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

interface VersionRecord {
  name: string;
  number: number;
  createTime: Timestamp;
  destroyTime?: Timestamp;
  state: VersionState;
  etag: string;
  /** Dropped on destroy, like the real service does with the secret data. */
  payload: Buffer | null;
  crc32c: number;
  clientSpecifiedPayloadChecksum: boolean;
}

interface SecretRecord {
  name: string;
  project: string;
  createTime: Timestamp;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  replication: Replication;
  etag: string;
  /** Ascending; version N sits at index N-1 because numbers are never reused. */
  versions: VersionRecord[];
}

const SECRET_FILTER_FIELDS: FilterFields<SecretRecord> = {
  description: 'name, labels.<key>',
  supports: (field) => field === 'name' || field.startsWith('labels.'),
  valueOf: (secret, field) => (field === 'name' ? secret.name : secret.labels[field.slice('labels.'.length)]),
};

const VERSION_FILTER_FIELDS: FilterFields<VersionRecord> = {
  description: 'name, state',
  supports: (field) => field === 'name' || field === 'state',
  valueOf: (version, field) => (field === 'name' ? version.name : version.state),
};

function newEtag(): string {
  return `"${randomBytes(7).toString('hex')}"`;
}

function required<T>(value: T | undefined | null | '', field: string): T {
  if (value === undefined || value === null || value === '') {
    throw invalidArgument(`Missing required field [${field}].`);
  }
  return value;
}

function validateLabels(labels: Record<string, string>): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw invalidArgument(`A secret can have at most ${MAX_LABELS} labels.`);
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) throw invalidArgument(`Label key [${key}] is invalid.`);
    if (!LABEL_VALUE.test(value))
      throw invalidArgument(`Label value [${value}] for key [${key}] is invalid.`);
  }
}

function validateReplication(replication: Replication | undefined): Replication {
  if (replication?.automatic) return { automatic: replication.automatic };
  const replicas = replication?.userManaged?.replicas ?? [];
  if (replicas.length > 0 && replicas.every((r) => r.location)) {
    return { userManaged: { replicas } };
  }
  throw invalidArgument('Secret.replication must specify either automatic or user_managed with replicas.');
}

function parseChecksum(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 0xffffffff) {
    throw invalidArgument(`data_crc32c [${value}] is not a valid CRC32C checksum.`);
  }
  return parsed;
}

export interface InMemorySecretManagerOptions {
  /** Milliseconds since the epoch; injectable so timestamps can be asserted. */
  now?: () => number;
}

/** The Secret Manager v1 resource model; all transport concerns live in service.ts. */
export class InMemorySecretManager {
  private readonly secrets = new Map<string, SecretRecord>();
  private readonly now: () => number;

  constructor(options: InMemorySecretManagerOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  createSecret(request: CreateSecretRequest): Secret {
    const project = parseProjectName(required(request.parent, 'parent'));
    const secretId = parseSecretId(required(request.secretId, 'secret_id'));
    const input = required(request.secret, 'secret');
    const name = formatSecretName({ project, secretId });
    if (this.secrets.has(name)) throw alreadyExists(`Secret [${name}] already exists.`);
    const labels = { ...input.labels };
    validateLabels(labels);
    const record: SecretRecord = {
      name,
      project,
      createTime: this.timestamp(),
      labels,
      annotations: { ...input.annotations },
      replication: validateReplication(input.replication),
      etag: newEtag(),
      versions: [],
    };
    this.secrets.set(name, record);
    return toWireSecret(record);
  }

  getSecret(request: NameRequest): Secret {
    return toWireSecret(this.findSecret(required(request.name, 'name')));
  }

  listSecrets(request: ListRequest): ListSecretsResponse {
    const parent = required(request.parent, 'parent');
    const project = parseProjectName(parent);
    const matches = compileFilter(request.filter, SECRET_FILTER_FIELDS);
    const sorted = [...this.secrets.values()]
      .filter((secret) => secret.project === project && matches(secret))
      .sort((a, b) => compareStrings(a.name, b.name));
    const page = paginate(
      sorted,
      request,
      `${parent}|${request.filter ?? ''}`,
      (secret) => secret.name,
      (secret, after) => secret.name > after,
    );
    return {
      secrets: page.items.map(toWireSecret),
      nextPageToken: page.nextPageToken,
      totalSize: sorted.length,
    };
  }

  deleteSecret(request: EtagGuardedRequest): Record<string, never> {
    const secret = this.findSecret(required(request.name, 'name'));
    checkEtag(request.etag, secret.etag, secret.name);
    this.secrets.delete(secret.name);
    return {};
  }

  addSecretVersion(request: AddSecretVersionRequest): SecretVersion {
    const secret = this.findSecret(required(request.parent, 'parent'));
    const payload = required(request.payload, 'payload');
    const data = payload.data ?? Buffer.alloc(0);
    if (data.length === 0) throw invalidArgument('Secret Payload cannot be empty.');
    if (data.length > MAX_PAYLOAD_BYTES) {
      throw invalidArgument(
        `Secret Payload cannot be larger than 64KiB; got ${data.length} bytes (limit ${MAX_PAYLOAD_BYTES}).`,
      );
    }
    const computed = crc32c(data);
    const claimed = parseChecksum(payload.dataCrc32c);
    if (claimed !== undefined && claimed !== computed) {
      throw invalidArgument('Checksum mismatch: the provided data_crc32c does not match the payload data.');
    }
    const number = secret.versions.length + 1;
    const version: VersionRecord = {
      name: formatSecretVersionName(parseSecretName(secret.name), number),
      number,
      createTime: this.timestamp(),
      state: 'ENABLED',
      etag: newEtag(),
      payload: Buffer.from(data),
      crc32c: computed,
      clientSpecifiedPayloadChecksum: claimed !== undefined,
    };
    secret.versions.push(version);
    return toWireVersion(version, secret);
  }

  getSecretVersion(request: NameRequest): SecretVersion {
    const { secret, version } = this.findVersion(required(request.name, 'name'));
    return toWireVersion(version, secret);
  }

  listSecretVersions(request: ListRequest): ListSecretVersionsResponse {
    const parent = required(request.parent, 'parent');
    const secret = this.findSecret(parent);
    const matches = compileFilter(request.filter, VERSION_FILTER_FIELDS);
    // Newest first, as the real service lists them.
    const sorted = secret.versions.filter(matches).reverse();
    const page = paginate(
      sorted,
      request,
      `${parent}|${request.filter ?? ''}`,
      (version) => String(version.number),
      (version, after) => version.number < Number(after),
    );
    return {
      versions: page.items.map((version) => toWireVersion(version, secret)),
      nextPageToken: page.nextPageToken,
      totalSize: sorted.length,
    };
  }

  accessSecretVersion(request: NameRequest): AccessSecretVersionResponse {
    const { version } = this.findVersion(required(request.name, 'name'));
    if (version.state !== 'ENABLED' || version.payload === null) {
      throw failedPrecondition(`Secret Version [${version.name}] is in ${version.state} state.`);
    }
    return {
      name: version.name,
      payload: { data: Buffer.from(version.payload), dataCrc32c: String(version.crc32c) },
    };
  }

  enableSecretVersion(request: EtagGuardedRequest): SecretVersion {
    return this.transition(request, 'ENABLED');
  }

  disableSecretVersion(request: EtagGuardedRequest): SecretVersion {
    return this.transition(request, 'DISABLED');
  }

  destroySecretVersion(request: EtagGuardedRequest): SecretVersion {
    return this.transition(request, 'DESTROYED');
  }

  private transition(request: EtagGuardedRequest, target: VersionState): SecretVersion {
    const { secret, version } = this.findVersion(required(request.name, 'name'));
    checkEtag(request.etag, version.etag, version.name);
    if (version.state === 'DESTROYED') {
      // DESTROYED is terminal; the wording mirrors the real service's 400 for a repeated destroy.
      throw failedPrecondition(
        target === 'DESTROYED'
          ? 'SecretVersion.state is already DESTROYED.'
          : `Secret Version [${version.name}] is in DESTROYED state.`,
      );
    }
    if (version.state !== target) {
      version.state = target;
      version.etag = newEtag();
      if (target === 'DESTROYED') {
        version.payload = null;
        version.destroyTime = this.timestamp();
      }
    }
    return toWireVersion(version, secret);
  }

  private findSecret(name: string): SecretRecord {
    const canonical = formatSecretName(parseSecretName(name));
    const secret = this.secrets.get(canonical);
    if (!secret) throw notFound(`Secret [${canonical}] not found.`);
    return secret;
  }

  private findVersion(name: string): { secret: SecretRecord; version: VersionRecord } {
    const parsed = parseSecretVersionName(name);
    const secretName = formatSecretName(parsed);
    const secret = this.secrets.get(secretName);
    if (parsed.version === LATEST_ALIAS) {
      // `latest` is the most recently created version whatever its state, so a disabled newest
      // version makes `latest` fail with FAILED_PRECONDITION rather than fall back to an older one.
      const version = secret?.versions.at(-1);
      if (!secret || !version) throw notFound(`Secret [${secretName}] not found or has no versions.`);
      return { secret, version };
    }
    const version = secret?.versions[parsed.version - 1];
    if (!secret || !version) {
      throw notFound(`Secret Version [${formatSecretVersionName(parsed, parsed.version)}] not found.`);
    }
    return { secret, version };
  }

  private timestamp(): Timestamp {
    const ms = this.now();
    return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkEtag(provided: string | undefined, current: string, name: string): void {
  // AIP-154: a stale etag is a concurrency conflict, reported as ABORTED.
  if (provided && provided !== current) {
    throw aborted(`The etag [${provided}] does not match the current etag of [${name}].`);
  }
}

function toWireSecret(secret: SecretRecord): Secret {
  return {
    name: secret.name,
    replication: secret.replication,
    createTime: secret.createTime,
    labels: { ...secret.labels },
    annotations: { ...secret.annotations },
    etag: secret.etag,
  };
}

function toWireVersion(version: VersionRecord, secret: SecretRecord): SecretVersion {
  const replicationStatus: SecretVersion['replicationStatus'] = secret.replication.userManaged
    ? { userManaged: { replicas: (secret.replication.userManaged.replicas ?? []).map(replicaStatus) } }
    : { automatic: {} };
  return {
    name: version.name,
    createTime: version.createTime,
    ...(version.destroyTime ? { destroyTime: version.destroyTime } : {}),
    state: version.state,
    replicationStatus,
    etag: version.etag,
    clientSpecifiedPayloadChecksum: version.clientSpecifiedPayloadChecksum,
  };
}

function replicaStatus(replica: { location?: string }): { location: string } {
  return { location: replica.location ?? '' };
}
