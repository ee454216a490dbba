// Shapes as @grpc/proto-loader hands them over with { keepCase: false, longs: String, enums: String,
// defaults: false, oneofs: true }: camelCase fields, int64 as decimal strings, absent fields undefined.

export interface Timestamp {
  seconds: number | string;
  nanos: number;
}

export interface Replication {
  automatic?: { customerManagedEncryption?: { kmsKeyName?: string } };
  userManaged?: { replicas?: { location?: string }[] };
  replication?: 'automatic' | 'userManaged';
}

export interface Secret {
  name?: string;
  replication?: Replication;
  createTime?: Timestamp;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  etag?: string;
}

export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

export interface SecretVersion {
  name: string;
  createTime: Timestamp;
  destroyTime?: Timestamp;
  state: VersionState;
  replicationStatus: { automatic: object } | { userManaged: { replicas: { location: string }[] } };
  etag: string;
  clientSpecifiedPayloadChecksum: boolean;
}

export interface SecretPayload {
  data?: Buffer;
  dataCrc32c?: string | number;
}

export interface CreateSecretRequest {
  parent?: string;
  secretId?: string;
  secret?: Secret;
}

export interface NameRequest {
  name?: string;
}

export interface EtagGuardedRequest extends NameRequest {
  etag?: string;
}

export interface ListRequest {
  parent?: string;
  pageSize?: number;
  pageToken?: string;
  filter?: string;
}

export interface AddSecretVersionRequest {
  parent?: string;
  payload?: SecretPayload;
}

export interface ListSecretsResponse {
  secrets: Secret[];
  nextPageToken: string;
  totalSize: number;
}

export interface ListSecretVersionsResponse {
  versions: SecretVersion[];
  nextPageToken: string;
  totalSize: number;
}

export interface AccessSecretVersionResponse {
  name: string;
  payload: { data: Buffer; dataCrc32c: string };
}
