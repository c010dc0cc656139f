import v8 from 'node:v8';
import vm from 'node:vm';
import { openTestStack, type TestStack } from '../support/stack';
import { apiTokenFor, signedInAccount, type TestAccount } from '../support/accounts';

/**
 * Bad input sweep: every operation that takes a body gets oversized bodies, wrong content types, invalid
 * UTF-8, deeply nested JSON and huge arrays. None may get a 5xx: a refusal is a 4xx with {error} (an
 * operation whose body has no required field may also ignore unknown fields and answer 2xx); the process
 * stays up and its memory does not grow with the abuse.
 */
let stack: TestStack;
let owner: TestAccount;
let token: string;

beforeAll(async () => {
  stack = await openTestStack({ BODY_LIMIT_BYTES: String(256 * 1024) });
  owner = await signedInAccount(stack, { role: 'admin' });
  token = await apiTokenFor(stack, owner.user);
});
afterAll(async () => stack.close());

type Operation = { method: 'post' | 'put' | 'patch' | 'delete'; path: string };

function operationsWithBodies(): Operation[] {
  const paths = (stack.openApi as { paths: Record<string, Record<string, { requestBody?: unknown }>> }).paths;
  const ops: Operation[] = [];
  for (const [template, methods] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!op.requestBody || !['post', 'put', 'patch', 'delete'].includes(method)) continue;
      const path = template.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
      ops.push({ method: method as Operation['method'], path });
    }
  }
  return ops;
}

const depth = 20_000;
const badBodies: Array<[string, string | Buffer, string]> = [
  ['an oversized body', JSON.stringify({ name: 'x'.repeat(300 * 1024) }), 'application/json'],
  ['a wrong content type', 'name=x&password=y', 'application/x-www-form-urlencoded'],
  ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), 'application/json'],
  ['deeply nested JSON', '{"a":'.repeat(depth) + '1' + '}'.repeat(depth), 'application/json'],
  ['deeply nested arrays', '['.repeat(depth) + ']'.repeat(depth), 'application/json'],
  ['a huge array', JSON.stringify({ items: new Array(60_000).fill(0) }), 'application/json'],
  ['a huge flat object', JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))), 'application/json'],
  ['a JSON scalar', '"just a string"', 'application/json'],
];

function send(op: Operation, body: string | Buffer, type: string, auth: 'cookie' | 'bearer') {
  const agent = auth === 'cookie' ? owner.agent : stack.http();
  const req = agent[op.method](op.path).set('Content-Type', type).serialize((b: unknown) => b as string);
  if (auth === 'bearer') req.set('Authorization', `Bearer ${token}`);
  return req.send(body as string);
}

describe('bad input sweep', () => {
  it('covers every operation that takes a body', () => {
    expect(operationsWithBodies().length).toBeGreaterThan(20);
  });

  it.each(badBodies.map(([label, body, type]) => [label, body, type] as const))('refuses %s with 4xx {error}, or ignores it, on every operation: never a 5xx', async (_label, body, type) => {
    const failures: string[] = [];
    for (const op of operationsWithBodies()) {
      for (const auth of ['cookie', 'bearer'] as const) {
        const res = await send(op, body, type, auth);
        const refused = res.status >= 400 && res.status < 500 && typeof res.body?.error === 'string';
        const ignored = res.status < 300 && ['deeply nested JSON', 'a huge array', 'a huge flat object'].includes(_label);
        if (!refused && !ignored) {
          failures.push(`${op.method.toUpperCase()} ${op.path} (${auth}): ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('stays up and does not grow its memory under repeated abuse', async () => {
    const ops = operationsWithBodies();
    const round = async () => {
      for (const op of ops) for (const [, body, type] of badBodies) await send(op, body, type, 'cookie');
    };
    await round();
    // A real collection before each reading, so only what is kept counts.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 3; i++) await round();
    gc();
    const after = process.memoryUsage().heapUsed;
    // Three more rounds of every bad body on every operation: far less than one round's worth of bodies retained.
    console.log('heap growth', after - before);
    expect(after - before).toBeLessThan(64 * 1024 * 1024);
    expect((await stack.http().get('/api/health')).status).toBe(200);
  }, 180_000);
});
