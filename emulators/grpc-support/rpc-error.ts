import { status } from '@grpc/grpc-js';

/** Thrown by the in-memory model; the gRPC layer turns it into a status with the same code and details. */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const notFound = (message: string) => new RpcError(status.NOT_FOUND, message);
export const alreadyExists = (message: string) => new RpcError(status.ALREADY_EXISTS, message);
export const failedPrecondition = (message: string) => new RpcError(status.FAILED_PRECONDITION, message);
export const invalidArgument = (message: string) => new RpcError(status.INVALID_ARGUMENT, message);
export const aborted = (message: string) => new RpcError(status.ABORTED, message);
export const unimplemented = (message: string) => new RpcError(status.UNIMPLEMENTED, message);
