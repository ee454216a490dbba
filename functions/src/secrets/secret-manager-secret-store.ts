import { status } from '@grpc/grpc-js';
import { SecretManagerServiceClient, type protos } from '@google-cloud/secret-manager';
import { crc32c } from './crc32c.js';
import { assertServiceSecretId, secretIdForTenant, webhookSecretIdForTenant } from './secret-id.js';
import type { IdentityProvider, SecretStore } from './secret-store.js';
import { SecretStoreError, type SecretStoreErrorCode } from './secret-store-error.js';

type SecretVersion = protos.google.cloud.secretmanager.v1.ISecretVersion;

const MAX_PAYLOAD_BYTES = 64 * 1024;
const APP_LABEL = 'workspace-sync';

interface SecretRef {
  tenantId: string;
  /** The label saying what the secret is: an identity provider's refresh token, or `webhook-signing`. */
  provider: IdentityProvider | 'webhook-signing' | 'service';
  secretId: string;
  /** projects/<project>/secrets/<secretId> */
  name: string;
}

/** Stores refresh tokens as Secret Manager secrets, one secret per (tenant, provider). */
export class SecretManagerSecretStore implements SecretStore {
  private readonly projectId: string;
  private readonly client: SecretManagerServiceClient;

  constructor(opts: { projectId: string; client?: SecretManagerServiceClient }) {
    this.projectId = opts.projectId;
    this.client = opts.client ?? new SecretManagerServiceClient({ projectId: opts.projectId });
    silenceRequestLogging(this.client);
  }

  async putRefreshToken(
    tenantId: string,
    token: string,
    provider: IdentityProvider = 'google',
  ): Promise<{ version: string }> {
    const secret = this.secretRef(tenantId, provider);
    const data = encodeToken(token);
    const added = await this.addVersionCreatingSecret(secret, data, token);
    const number = versionNumber(added.name);
    // Only strictly older versions: a concurrent put may already have added a newer one, and
    // destroying "everything but mine" would let two racing puts destroy each other's versions.
    await this.destroyVersions(secret, (version) => versionNumber(version.name) < number);
    return { version: String(number) };
  }

  async getRefreshToken(tenantId: string, provider: IdentityProvider = 'google'): Promise<string | null> {
    return this.latestEnabled(this.secretRef(tenantId, provider));
  }

  async putWebhookSecret(tenantId: string, value: string): Promise<{ version: string }> {
    const secret = this.webhookRef(tenantId);
    const data = encodeToken(value);
    const added = await this.addVersionCreatingSecret(secret, data, value);
    const number = versionNumber(added.name);
    await this.destroyVersions(secret, (version) => versionNumber(version.name) < number);
    return { version: String(number) };
  }

  async getWebhookSecret(tenantId: string): Promise<string | null> {
    return this.latestEnabled(this.webhookRef(tenantId));
  }

  async getServiceSecret(secretId: string): Promise<string | null> {
    assertServiceSecretId(secretId);
    return this.latestEnabled({
      tenantId: '',
      provider: 'service',
      secretId,
      name: `projects/${this.projectId}/secrets/${secretId}`,
    });
  }

  private webhookRef(tenantId: string): SecretRef {
    const secretId = webhookSecretIdForTenant(tenantId);
    return {
      tenantId,
      provider: 'webhook-signing',
      secretId,
      name: `projects/${this.projectId}/secrets/${secretId}`,
    };
  }

  private async latestEnabled(secret: SecretRef): Promise<string | null> {
    try {
      return await this.access(secret, 'latest');
    } catch (err) {
      if (grpcCode(err) === status.NOT_FOUND) return null;
      // `latest` is the newest version whatever its state; an older one may still be enabled.
      if (grpcCode(err) !== status.FAILED_PRECONDITION) throw wrap(err, 'access', secret);
    }
    const enabled = await this.listVersions(secret, 'state:ENABLED');
    for (const number of enabled.map((v) => versionNumber(v.name)).sort((a, b) => b - a)) {
      try {
        return await this.access(secret, String(number));
      } catch (err) {
        // Disabled or destroyed since listing: try the next one.
        const code = grpcCode(err);
        if (code !== status.FAILED_PRECONDITION && code !== status.NOT_FOUND) {
          throw wrap(err, 'access', secret);
        }
      }
    }
    return null;
  }

  async destroyRefreshToken(tenantId: string, provider: IdentityProvider = 'google'): Promise<void> {
    await this.destroyVersions(this.secretRef(tenantId, provider), () => true);
  }

  /** Closes the client, including an injected one; for tests and graceful shutdown. */
  async close(): Promise<void> {
    await this.client.close();
  }

  private secretRef(tenantId: string, provider: IdentityProvider): SecretRef {
    const secretId = secretIdForTenant(tenantId, provider);
    return { tenantId, provider, secretId, name: `projects/${this.projectId}/secrets/${secretId}` };
  }

  private async addVersionCreatingSecret(
    secret: SecretRef,
    data: Buffer,
    token: string,
  ): Promise<SecretVersion> {
    // Optimistic: the secret exists on every put but the first, so try the add before creating.
    const add = async () => {
      const [version] = await this.client.addSecretVersion({
        parent: secret.name,
        payload: { data, dataCrc32c: crc32c(data) },
      });
      return version;
    };
    try {
      return await add();
    } catch (err) {
      if (grpcCode(err) !== status.NOT_FOUND) throw wrap(err, 'addVersion', secret, token);
    }
    await this.createSecret(secret);
    try {
      return await add();
    } catch (err) {
      throw wrap(err, 'addVersion', secret, token);
    }
  }

  private async createSecret(secret: SecretRef): Promise<void> {
    try {
      await this.client.createSecret({
        parent: `projects/${this.projectId}`,
        secretId: secret.secretId,
        secret: {
          replication: { automatic: {} },
          labels: { app: APP_LABEL, tenant: secret.tenantId, provider: secret.provider },
        },
      });
    } catch (err) {
      // A concurrent first put created it in between; that is the state we wanted.
      if (grpcCode(err) !== status.ALREADY_EXISTS) throw wrap(err, 'createSecret', secret);
    }
  }

  private async access(secret: SecretRef, version: string): Promise<string> {
    const [response] = await this.client.accessSecretVersion({ name: `${secret.name}/versions/${version}` });
    const data = response.payload?.data;
    if (!(data instanceof Uint8Array)) {
      throw new SecretStoreError('INTERNAL', `Secret Manager returned no payload for ${secret.secretId}.`);
    }
    const checksum = response.payload?.dataCrc32c;
    if (checksum !== undefined && checksum !== null && Number(checksum) !== crc32c(data)) {
      throw new SecretStoreError(
        'DATA_CORRUPTED',
        `Payload checksum mismatch reading ${secret.secretId}; the data was corrupted in transit.`,
        { retryable: true },
      );
    }
    return Buffer.from(data).toString('utf8');
  }

  /** All versions of the secret, or none when the secret does not exist. */
  private async listVersions(secret: SecretRef, filter?: string): Promise<SecretVersion[]> {
    const versions: SecretVersion[] = [];
    try {
      // autoPaginate: false only silences gax's warning; the async iterator always follows page tokens.
      const pages = this.client.listSecretVersionsAsync(
        { parent: secret.name, filter },
        { autoPaginate: false },
      );
      for await (const version of pages) {
        versions.push(version);
      }
    } catch (err) {
      if (grpcCode(err) === status.NOT_FOUND) return [];
      throw wrap(err, 'listVersions', secret);
    }
    return versions;
  }

  private async destroyVersions(
    secret: SecretRef,
    shouldDestroy: (v: SecretVersion) => boolean,
  ): Promise<void> {
    const versions = await this.listVersions(secret);
    for (const version of versions) {
      if (version.state === 'DESTROYED' || !shouldDestroy(version)) continue;
      try {
        await this.client.destroySecretVersion({ name: version.name });
      } catch (err) {
        // Destroyed (FAILED_PRECONDITION) or deleted (NOT_FOUND) concurrently: the goal is reached.
        const code = grpcCode(err);
        if (code !== status.FAILED_PRECONDITION && code !== status.NOT_FOUND) {
          throw wrap(err, 'destroyVersion', secret);
        }
      }
    }
  }
}

// A callable that absorbs any property access or call, so whatever the client does with its logger
// (`.info(...)`, `.sublog(...).warn(...)`) stays a no-op.
const SILENT_LOGGER: object = new Proxy(function silent() {}, {
  get: () => SILENT_LOGGER,
  apply: () => undefined,
});

/**
 * The generated client logs every request and response with `%j` once google-logging-utils is on
 * (GOOGLE_SDK_NODE_LOGGING=secret-manager or '*', or a backend set in code). That would put the refresh
 * token of AddSecretVersion requests and AccessSecretVersion responses into the logs, so the store
 * mutes its client's logger. `_log` is private to the client; the logging test notices if it moves.
 */
function silenceRequestLogging(client: SecretManagerServiceClient): void {
  const internals = client as unknown as { _log?: unknown };
  if ('_log' in internals) internals._log = SILENT_LOGGER;
}

function encodeToken(token: string): Buffer {
  if (typeof token !== 'string' || token.length === 0) {
    throw new SecretStoreError('INVALID_TOKEN', 'Refresh token must be a non-empty string.');
  }
  const data = Buffer.from(token, 'utf8');
  if (data.length > MAX_PAYLOAD_BYTES) {
    throw new SecretStoreError(
      'INVALID_TOKEN',
      `Refresh token is ${data.length} bytes; Secret Manager payloads are limited to ${MAX_PAYLOAD_BYTES}.`,
    );
  }
  return data;
}

function versionNumber(name: string | null | undefined): number {
  const number = Number(name?.slice(name.lastIndexOf('/') + 1));
  if (!Number.isInteger(number) || number < 1) {
    throw new SecretStoreError('INTERNAL', `Unexpected secret version name [${name ?? ''}].`);
  }
  return number;
}

function grpcCode(err: unknown): number | undefined {
  const code: unknown =
    typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

const CODE_BY_STATUS: Partial<Record<status, SecretStoreErrorCode>> = {
  [status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [status.OUT_OF_RANGE]: 'INVALID_ARGUMENT',
  [status.NOT_FOUND]: 'NOT_FOUND',
  [status.ALREADY_EXISTS]: 'CONFLICT',
  [status.ABORTED]: 'CONFLICT',
  [status.FAILED_PRECONDITION]: 'CONFLICT',
  [status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [status.UNAUTHENTICATED]: 'PERMISSION_DENIED',
  [status.UNAVAILABLE]: 'UNAVAILABLE',
  [status.DEADLINE_EXCEEDED]: 'UNAVAILABLE',
  [status.RESOURCE_EXHAUSTED]: 'UNAVAILABLE',
};

const MAX_DETAIL_CHARS = 300;

/**
 * Keeps the server's explanation (e.g. which IAM permission is missing), which Google never fills with
 * payload data; the token is still redacted in case a future error echoes request fields.
 */
function safeDetails(err: unknown, token: string | undefined): string {
  const raw = typeof err === 'object' && err !== null ? (err as { details?: unknown }).details : undefined;
  let details = typeof raw === 'string' ? raw : err instanceof Error ? err.message : '';
  if (token) details = details.split(token).join('[REDACTED]');
  return details.length > MAX_DETAIL_CHARS ? `${details.slice(0, MAX_DETAIL_CHARS)}…` : details;
}

function wrap(err: unknown, operation: string, secret: SecretRef, token?: string): SecretStoreError {
  if (err instanceof SecretStoreError) return err;
  const code = grpcCode(err);
  const storeCode = (code !== undefined && CODE_BY_STATUS[code as status]) || 'INTERNAL';
  const statusName = code !== undefined ? (status[code] ?? String(code)) : 'no gRPC status';
  const details = safeDetails(err, token);
  return new SecretStoreError(
    storeCode,
    `Secret Manager ${operation} failed for ${secret.secretId} (${statusName})${details ? `: ${details}` : ''}`,
    { grpcCode: code, retryable: storeCode === 'UNAVAILABLE' },
  );
}
