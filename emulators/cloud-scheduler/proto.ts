import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadServiceFromClientPackage } from '../grpc-support/client-protos.js';

export const SERVICE_NAME = 'google.cloud.scheduler.v1.CloudScheduler';

export function loadCloudSchedulerServiceDefinition(): ServiceDefinition {
  return loadServiceFromClientPackage(
    '@google-cloud/scheduler',
    'google/cloud/scheduler/v1/cloudscheduler.proto',
    SERVICE_NAME,
  ) as ServiceDefinition;
}
