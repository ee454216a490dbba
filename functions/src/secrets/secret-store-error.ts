export type SecretStoreErrorCode =
  | 'INVALID_TENANT_ID'
  | 'INVALID_PROVIDER'
  | 'INVALID_TOKEN'
  | 'INVALID_CONFIGURATION'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE'
  | 'DATA_CORRUPTED'
  | 'INTERNAL';

/**
 * The only error type that leaves the secret store. Its message is built from safe parts (operation,
 * secret id, status) so it can be logged as is; it never carries the token nor the client error as
 * `cause`, because loggers serialise causes wholesale.
 */
export class SecretStoreError extends Error {
  override readonly name = 'SecretStoreError';

  constructor(
    readonly code: SecretStoreErrorCode,
    message: string,
    readonly details: { grpcCode?: number; retryable?: boolean } = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.details.retryable ?? false;
  }
}
