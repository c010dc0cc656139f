import { z } from 'zod';
import type { AnyRouteSpec } from './route';

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

export const openApiPath = (koaPath: string): string => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const errorBody = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string', description: 'Human-readable error message' } },
};

const standardErrors: Record<number, string> = {
  400: 'Bad Request: missing or invalid parameters',
  401: 'Unauthorized: authentication required or invalid token',
  403: 'Forbidden: insufficient permissions',
  404: 'Not Found: resource does not exist',
  409: 'Conflict: resource already exists',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type: send application/json',
  429: 'Too Many Requests: rate limit exceeded',
  500: 'Internal Server Error',
  503: 'Service Unavailable: a dependency is down',
};

function parametersOf(spec: AnyRouteSpec): JsonSchema[] {
  const params: JsonSchema[] = [];
  for (const [where, schema] of [['path', spec.params], ['query', spec.query]] as const) {
    if (!schema) continue;
    const json = toSchema(schema, 'input');
    const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, property] of Object.entries(properties)) {
      params.push({ name, in: where, required: where === 'path' || required.has(name), schema: property });
    }
  }
  return params;
}

function securityOf(spec: AnyRouteSpec): JsonSchema[] | undefined {
  if (spec.auth === 'public') return [];
  if (spec.auth === 'session') return [{ cookieAuth: [] }];
  return [{ cookieAuth: [] }, { bearerAuth: [] }];
}

/** OpenAPI 3.1 from the same zod schemas the routes validate with. */
export function buildOpenApi(routes: AnyRouteSpec[], opts: { version: string; serverUrl?: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of routes) {
    const responses: Record<string, JsonSchema> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      const contentType = response.contentType ?? 'application/json';
      responses[status] = {
        description: response.description,
        ...(response.schema ? { content: { [contentType]: { schema: toSchema(response.schema, 'output') } } } : {}),
      };
    }
    const possibleErrors = [400, 500, ...(spec.auth === 'public' ? [] : [401, 403]), ...(spec.body ? [413, 415] : [])];
    for (const status of possibleErrors) {
      responses[String(status)] ??= { description: standardErrors[status], content: { 'application/json': { schema: errorBody } } };
    }
    for (const status of Object.keys(responses)) {
      if (Number(status) >= 400 && !responses[status].content) {
        responses[status] = { ...responses[status], content: { 'application/json': { schema: errorBody } } };
      }
    }
    const operation: JsonSchema = {
      operationId: `${spec.method}${openApiPath(spec.path).replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      security: securityOf(spec),
      parameters: parametersOf(spec),
      ...(spec.body
        ? { requestBody: { required: true, content: { [spec.bodyContentType ?? 'application/json']: { schema: toSchema(spec.body, 'input') } } } }
        : {}),
      responses,
    };
    (paths[openApiPath(spec.path)] ??= {})[spec.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'FlowBot API',
      version: opts.version,
      description: 'WhatsApp-first conversational automation. Every error body is {"error": "human-readable message"}.',
    },
    servers: [{ url: opts.serverUrl ?? '/' }],
    components: {
      securitySchemes: {
        cookieAuth: { type: 'apiKey', in: 'cookie', name: 'wdf_token', description: 'Session cookie set by POST /api/auth/login' },
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'API JWT from POST /api/auth/api-token' },
      },
      schemas: { Error: errorBody },
    },
    paths,
  };
}
