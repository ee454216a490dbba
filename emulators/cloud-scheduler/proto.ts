import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadSync } from '@grpc/proto-loader';
import type { ServiceDefinition } from '@grpc/grpc-js';

const SERVICE_PROTO = 'google/cloud/scheduler/v1/cloudscheduler.proto';
export const SERVICE_NAME = 'google.cloud.scheduler.v1.CloudScheduler';

/**
 * The protos @google-cloud/scheduler ships keep the emulator in lockstep with the client version; the
 * common protos (google/api, google/rpc, google/protobuf) come from the google-gax that client resolves.
 */
function protoIncludeDirs(): string[] {
  const require = createRequire(import.meta.url);
  const clientEntry = require.resolve('@google-cloud/scheduler'); // <pkg>/build/src/index.js
  const gaxEntry = createRequire(clientEntry).resolve('google-gax'); // <gax>/build/src/index.js
  return [join(dirname(clientEntry), '..', 'protos'), join(dirname(gaxEntry), '..', 'protos')];
}

export function loadCloudSchedulerServiceDefinition(): ServiceDefinition {
  const definition = loadSync(SERVICE_PROTO, {
    includeDirs: protoIncludeDirs(),
    keepCase: false,
    longs: String,
    enums: String,
    // Unset fields stay undefined, so "not given" can be told apart from a zero value.
    defaults: false,
    oneofs: true,
  });
  const service = definition[SERVICE_NAME];
  // Messages and enums carry a `format`; services are plain method maps.
  if (!service || 'format' in service) throw new Error(`${SERVICE_NAME} not found in ${SERVICE_PROTO}`);
  return service as ServiceDefinition;
}
