import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadSync, type AnyDefinition, type ServiceDefinition } from '@grpc/proto-loader';

/**
 * Loads a service from the protos a Google client package ships, so an emulator stays in lockstep with the
 * client version. google-gax is resolved from the client's own location so its common protos (google/api,
 * google/iam, google/protobuf, google/rpc) are the ones the client itself was built against.
 */
export function loadServiceFromClientPackage(
  clientPackage: string,
  protoPath: string,
  serviceName: string,
): ServiceDefinition {
  const require = createRequire(import.meta.url);
  const clientEntry = require.resolve(clientPackage); // <pkg>/build/src/index.js
  const gaxEntry = createRequire(clientEntry).resolve('google-gax'); // <gax>/build/src/index.js
  const definition = loadSync(protoPath, {
    includeDirs: [join(dirname(clientEntry), '..', 'protos'), join(dirname(gaxEntry), '..', 'protos')],
    keepCase: false,
    longs: String,
    enums: String,
    // Without defaults, unset request fields arrive as undefined, so presence can be told apart from zero.
    defaults: false,
    oneofs: true,
  });
  const service = definition[serviceName];
  if (!isServiceDefinition(service)) throw new Error(`${serviceName} not found in ${protoPath}`);
  return service;
}

// Messages and enums carry a `format`; services are plain method maps.
function isServiceDefinition(value: AnyDefinition | undefined): value is ServiceDefinition {
  return value !== undefined && !('format' in value);
}
