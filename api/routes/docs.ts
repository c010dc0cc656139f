import type { Context } from 'koa';
import { docsPageCsp, renderDocsPage } from '../docs/page';
import type { ApiDeps } from '../deps';
import { route, type AnyRouteSpec } from '../route';

/**
 * The origin the examples on /docs call: the configured public URL when there is one (the address integrators
 * use behind a reverse proxy), else the origin this request came to. (In Koa 3 `ctx.origin` is the request's
 * Origin header, so the origin is built from protocol and host.)
 */
function baseUrlOf(ctx: Context, openApi: Record<string, unknown>): string {
  const server = ((openApi.servers ?? []) as { url?: string }[])[0]?.url;
  const base = server && /^https?:\/\//i.test(server) ? server : `${ctx.protocol}://${ctx.host}`;
  return base.replace(/\/+$/, '');
}

/** The OpenAPI document and the page that renders it for people; neither is listed in the document. */
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
    route({
      method: 'get',
      path: '/docs',
      tag: 'System',
      summary: 'API documentation with copy-paste examples in cURL, Node.js, Python and PHP',
      auth: 'public',
      responses: { 200: { description: 'An HTML page', contentType: 'text/html' } },
      handler(ctx) {
        const page = renderDocsPage(openApi, { baseUrl: baseUrlOf(ctx, openApi) });
        ctx.set('Content-Security-Policy', docsPageCsp);
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.type = 'html';
        return page;
      },
    }),
  ];
}

export type { ApiDeps };
