import { z } from 'zod';
import { json, type ApiResult } from '../http.js';
import type { RouteContext } from '../route-context.js';
import type { Route } from '../router.js';
import { openApiDocument } from './openapi-document.js';

/** Built once per instance: the routes do not change while it runs. */
let cached: Record<string, unknown> | null = null;

/**
 * GET /api/openapi.json: the API reference, public like any API description. The router table is imported when
 * first asked for, since it includes this route (a static import would be a cycle).
 */
async function openApi(): Promise<ApiResult> {
  if (!cached) {
    const { API_ROUTES } = await import('../routes/index.js');
    cached = openApiDocument(API_ROUTES);
  }
  return json(200, cached, { 'cache-control': 'public, max-age=300' });
}

export const openApiRoutes: Array<Route<RouteContext>> = [
  {
    method: 'GET',
    pattern: '/api/openapi.json',
    access: { kind: 'public' },
    handle: openApi,
    doc: {
      summary: 'This document: the OpenAPI 3.1 description of the API',
      responses: {
        200: {
          description: 'The OpenAPI 3.1 document.',
          schema: z
            .object({ openapi: z.string(), info: z.object({}).loose(), paths: z.object({}).loose() })
            .loose(),
        },
      },
    },
  },
];
