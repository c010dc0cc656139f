import type { ApiDeps } from '../deps';
import { route, type AnyRouteSpec } from '../route';

/** The OpenAPI document itself; it is not listed in itself. */
export function docsRoutes(openApi: Record<string, unknown>): AnyRouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/api/openapi.json',
      tag: 'System',
      summary: 'OpenAPI 3.1 description of this API',
      auth: 'public',
      responses: { 200: { description: 'The document' } },
      handler: () => openApi,
    }),
  ];
}

export type { ApiDeps };
