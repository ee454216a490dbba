import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadSync, type AnyDefinition, type ServiceDefinition } from '@grpc/proto-loader';

const SERVICE_PROTO = 'google/cloud/secretmanager/v1/service.proto';
const SERVICE_NAME = 'google.cloud.secretmanager.v1.SecretManagerService';

/**
 * Serving the protos the client package ships keeps the emulator in lockstep with the client version.
 * google-gax is resolved from the client's own location so its common protos (google/api, google/iam,
 * google/protobuf, google/rpc) are the ones the client itself was built against.
 */
function protoIncludeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const clientEntry = require.resolve('@google-cloud/secret-manager'); // <pkg>/build/src/index.js
  const gaxEntry = createRequire(clientEntry).resolve('google-gax'); // <gax>/build/src/index.js
  return [join(dirname(clientEntry), '..', 'protos'), join(dirname(gaxEntry), '..', 'protos')];
}

function isServiceDefinition(value: AnyDefinition | undefined): value is ServiceDefinition {
  return value !== undefined && !('format' in value);
}

export function loadSecretManagerServiceDefinition(): ServiceDefinition {
  const definition = loadSync(SERVICE_PROTO, {
    includeDirs: protoIncludeDirs(),
    keepCase: false,
    longs: String,
    enums: String,
    // Without defaults, unset request fields arrive as undefined, so presence (e.g. of the optional
    // data_crc32c) can be told apart from a zero value.
    defaults: false,
    oneofs: true,
  });
  const service = definition[SERVICE_NAME];
  if (!isServiceDefinition(service)) throw new Error(`${SERVICE_NAME} not found in ${SERVICE_PROTO}`);
  return service;
}
