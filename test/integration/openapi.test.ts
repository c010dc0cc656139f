import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type Router from '@koa/router';
import { openApiPath } from '../../api/openapi';
import { signedInAccount, uniqueIp, uniqueName } from '../support/accounts';
import { openTestStack, type TestStack } from '../support/stack';

type Schema = Record<string, any>;
interface Operation {
  operationId: string;
  summary: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters: { name: string; in: string; required: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
}

let stack: TestStack;
let doc: { openapi: string; paths: Record<string, Record<string, Operation>> };
beforeAll(async () => {
  stack = await openTestStack();
  doc = stack.openApi as typeof doc;
});
afterAll(async () => stack.close());

const operations = () =>
  Object.entries(doc.paths).flatMap(([p, item]) => Object.entries(item).map(([method, operation]) => ({ method, path: p, operation })));

/** Routes the app really serves, read from the mounted router, not from the list the document was built from. */
function mountedRoutes(): string[] {
  const middleware = (stack.app as unknown as { middleware: { router?: Router }[] }).middleware;
  const router = middleware.find((m) => m.router)?.router;
  if (!router) throw new Error('no router mounted on the app');
  return router.stack.flatMap((layer) =>
    layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m.toLowerCase()} ${openApiPath(String(layer.path))}`),
  );
}

/** The OpenAPI 3.1 meta-schema check of @seriousme/openapi-schema-validator, an ES module, run in its own node. */
function validateOpenApi(document: unknown): { valid: boolean; errors?: unknown } {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(input));
    process.stdout.write(JSON.stringify({ ...result, version: validator.version }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    input: JSON.stringify(document),
    encoding: 'utf8',
    cwd: path.resolve(__dirname, '../..'),
  });
  if (run.status !== 0) throw new Error(`validator failed to run: ${run.stderr}`);
  const { version, ...result } = JSON.parse(run.stdout) as { valid: boolean; errors?: unknown; version: string };
  expect(version).toBe('3.1');
  return result;
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string', description: expect.any(String) } },
};

/** Error responses that deliberately answer a richer body than {"error"}, and why. */
const ownErrorBodies: Record<string, string> = {
  'get /api/health 503': 'reports the state of each dependency, like its 200',
};

describe('GET /api/openapi.json', () => {
  it('serves the document the app was built with, as JSON', async () => {
    const res = await stack.http().get('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('is a valid OpenAPI 3.1 document', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(validateOpenApi(doc)).toEqual({ valid: true });
  });

  it('is checked by a validator that does reject an invalid document', () => {
    const broken = JSON.parse(JSON.stringify(doc));
    delete broken.info;
    broken.paths['/api/auth/login'].post.responses = { 200: {} };
    expect(validateOpenApi(broken).valid).toBe(false);
  });
});

describe('the document matches the app', () => {
  it('lists every mounted route with its method, and nothing the app does not serve', () => {
    const selfDescribing = ['get /api/openapi.json', 'get /docs'];
    const mounted = mountedRoutes().filter((r) => !selfDescribing.includes(r));
    const documented = operations().map((o) => `${o.method} ${o.path}`);
    expect(mounted.length).toBeGreaterThan(10);
    expect([...documented].sort()).toEqual([...mounted].sort());
    for (const r of selfDescribing) expect(mountedRoutes()).toContain(r);
  });

  it('declares every path parameter, and only those in the path', () => {
    for (const { method, path: p, operation } of operations()) {
      const inTemplate = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = operation.parameters.filter((x) => x.in === 'path');
      expect({ op: `${method} ${p}`, params: declared.map((x) => x.name).sort() }).toEqual({ op: `${method} ${p}`, params: inTemplate });
      for (const param of declared) expect(param.required).toBe(true);
    }
  });

  it('gives every operation a unique operationId, a summary and one tag', () => {
    const ids = operations().map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { operation } of operations()) {
      expect(operation.operationId).toMatch(/^[a-z]+[A-Za-z0-9]*$/);
      expect(operation.summary.length).toBeGreaterThan(3);
      expect(operation.tags).toHaveLength(1);
    }
  });

  it('documents every 4xx and 5xx answer with the {"error": string} body', () => {
    for (const { method, path: p, operation } of operations()) {
      const statuses = Object.keys(operation.responses);
      expect(statuses).toEqual(expect.arrayContaining(['400', '500']));
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        const key = `${method} ${p} ${status}`;
        const schema = operation.responses[status].content?.['application/json']?.schema;
        expect({ key, hasSchema: Boolean(schema) }).toEqual({ key, hasSchema: true });
        if (!(key in ownErrorBodies)) expect({ key, schema }).toEqual({ key, schema: errorSchema });
      }
    }
  });

  it('answers 401 without credentials on every operation marked Cookie or Bearer', async () => {
    const guarded = operations().filter((o) => o.operation.security.length > 0);
    expect(guarded.length).toBeGreaterThan(5);
    for (const { method, path: p, operation } of guarded) {
      expect(Object.keys(operation.responses)).toContain('401');
      const url = p.replace(/\{[^}]+\}/g, randomUUID());
      const res = await (stack.http() as any)[method](url).set('X-Forwarded-For', uniqueIp());
      expect({ op: `${method} ${p}`, status: res.status, body: res.body }).toEqual({ op: `${method} ${p}`, status: 401, body: { error: expect.any(String) } });
    }
  });
});

describe('the schemas in the document are the ones that validate requests', () => {
  const bodySchema = (p: string, method = 'post') => doc.paths[p][method].requestBody!.content['application/json'].schema;

  it('POST /api/auth/register requires username and password, with their length rules', async () => {
    const schema = bodySchema('/api/auth/register');
    expect(schema.required).toEqual(expect.arrayContaining(['username', 'password']));
    expect(schema.required).not.toContain('email');
    expect(schema.properties.username).toMatchObject({ type: 'string', minLength: 3, maxLength: 64 });
    expect(schema.properties.password).toMatchObject({ type: 'string', minLength: 8 });

    const tooShort = await stack.http().post('/api/auth/register').send({ username: uniqueName('u'), password: 'x'.repeat(7) });
    expect(tooShort.status).toBe(400);
    expect(tooShort.body.error).toMatch(/password/);
    const justLongEnough = await stack.http().post('/api/auth/register').send({ username: uniqueName('u'), password: 'x'.repeat(8) });
    expect(justLongEnough.status).toBe(201);
  });

  it('POST /api/auth/api-token caps ttlSec at 86400, as the validator does', async () => {
    const schema = bodySchema('/api/auth/api-token');
    expect(schema.properties.ttlSec).toMatchObject({ type: 'integer', minimum: 60, maximum: 86400, default: 3600 });
    expect(schema.required).toEqual(['clientId', 'apiKey']);

    const send = (ttlSec: number) =>
      stack.http().post('/api/auth/api-token').set('X-Forwarded-For', uniqueIp()).send({ clientId: 'aiflow_unknown', apiKey: 'not-a-key', ttlSec });
    const over = await send(86401);
    expect(over.status).toBe(400);
    expect(over.body.error).toMatch(/ttlSec/);
    // At the maximum the body is valid: the call gets as far as checking the credentials.
    expect((await send(86400)).status).toBe(401);
  });

  it('rejects an empty body naming each field the document marks required', async () => {
    const admin = await signedInAccount(stack, { role: 'admin' });
    const withRequired = operations().filter(({ operation }) => {
      const schema = operation.requestBody?.content['application/json']?.schema;
      return Array.isArray(schema?.required) && schema.required.length > 0;
    });
    expect(withRequired.length).toBeGreaterThan(4);
    for (const { method, path: p, operation } of withRequired) {
      const required: string[] = operation.requestBody!.content['application/json'].schema.required;
      const url = p.replace(/\{[^}]+\}/g, randomUUID());
      const res = await (admin.agent as any)[method](url).set('X-Forwarded-For', uniqueIp()).send({});
      expect({ op: `${method} ${p}`, status: res.status }).toEqual({ op: `${method} ${p}`, status: 400 });
      for (const field of required.slice(0, 5)) expect({ op: `${method} ${p}`, error: res.body.error }).toEqual({ op: `${method} ${p}`, error: expect.stringContaining(`${field}:`) });
    }
  });
});
