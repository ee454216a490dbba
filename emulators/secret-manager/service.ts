import {
  status,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type handleUnaryCall,
} from '@grpc/grpc-js';
import type { InMemorySecretManager } from './in-memory-secret-manager.js';
import { RpcError } from '../grpc-support/rpc-error.js';

function unary<Req, Res>(handler: (request: Req) => Res): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    try {
      callback(null, handler(call.request));
    } catch (err) {
      if (err instanceof RpcError) {
        callback({ code: err.code, details: err.message });
      } else {
        const reason = err instanceof Error ? err.message : String(err);
        callback({ code: status.INTERNAL, details: `Secret Manager emulator internal error: ${reason}` });
      }
    }
  };
}

function notImplemented(method: string): handleUnaryCall<unknown, never> {
  return (_call, callback) =>
    callback({
      code: status.UNIMPLEMENTED,
      details: `Method ${method} is not implemented by the Secret Manager emulator.`,
    });
}

/** Keyed by the proto method names, as the proto-loader service definition is. */
export function secretManagerImplementation(
  definition: ServiceDefinition,
  model: InMemorySecretManager,
): UntypedServiceImplementation {
  const implemented: UntypedServiceImplementation = {
    CreateSecret: unary(model.createSecret.bind(model)),
    GetSecret: unary(model.getSecret.bind(model)),
    ListSecrets: unary(model.listSecrets.bind(model)),
    DeleteSecret: unary(model.deleteSecret.bind(model)),
    AddSecretVersion: unary(model.addSecretVersion.bind(model)),
    GetSecretVersion: unary(model.getSecretVersion.bind(model)),
    ListSecretVersions: unary(model.listSecretVersions.bind(model)),
    AccessSecretVersion: unary(model.accessSecretVersion.bind(model)),
    EnableSecretVersion: unary(model.enableSecretVersion.bind(model)),
    DisableSecretVersion: unary(model.disableSecretVersion.bind(model)),
    DestroySecretVersion: unary(model.destroySecretVersion.bind(model)),
  };
  // grpc-js would answer UNIMPLEMENTED by itself, but naming the emulator tells a developer that the
  // gap is here and not in their request.
  const handlers: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    handlers[name] = implemented[name] ?? notImplemented(method.path);
  }
  return handlers;
}
