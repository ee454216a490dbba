import type { ServiceDefinition } from '@grpc/proto-loader';
import { loadServiceFromClientPackage } from '../grpc-support/client-protos.js';

export function loadSecretManagerServiceDefinition(): ServiceDefinition {
  return loadServiceFromClientPackage(
    '@google-cloud/secret-manager',
    'google/cloud/secretmanager/v1/service.proto',
    'google.cloud.secretmanager.v1.SecretManagerService',
  );
}
