import type { RouteContext } from '../route-context.js';
import type { Route } from '../router.js';
import { authRoutes } from './auth-routes.js';
import { connectionRoutes } from '../../sources/google/connection-routes.js';
import { deviceActionRoutes } from '../../devices/device-action-routes.js';
import { entityRoutes } from './entity-routes.js';
import { entraRoutes } from '../../sources/entra/entra-routes.js';
import { mappingRoutes } from './mapping-routes.js';
import { openApiRoutes } from '../openapi/openapi-route.js';
import { memberRoutes } from './member-routes.js';
import { previewRoutes } from '../../sources/google/preview-route.js';
import { pushRoutes } from '../../push/push-routes.js';
import { recordRoutes } from './record-routes.js';
import { removalReviewRoutes } from './removal-review-routes.js';
import { runRoutes } from './run-routes.js';
import { syncWebhookRoutes } from './sync-webhook.js';
import { tenantRoutes } from './tenant-routes.js';
import { hostListRoutes } from './host-list-routes.js';
import { notificationRoutes } from '../../notifications/routes.js';
import { settingsRoutes } from './settings-routes.js';

export const API_ROUTES: Array<Route<RouteContext>> = [
  ...authRoutes,
  ...entityRoutes,
  ...tenantRoutes,
  ...connectionRoutes,
  ...entraRoutes,
  ...mappingRoutes,
  ...memberRoutes,
  ...previewRoutes,
  ...syncWebhookRoutes,
  ...runRoutes,
  ...recordRoutes,
  ...deviceActionRoutes,
  ...pushRoutes,
  ...removalReviewRoutes,
  ...hostListRoutes,
  ...openApiRoutes,
  ...notificationRoutes,
  ...settingsRoutes,
];
