import { openTestStack, type TestStack } from '../support/stack';
import { signedInAccount, uniqueIp } from '../support/accounts';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack({ BODY_LIMIT_BYTES: '4096' });
});
afterAll(async () => stack.close());

// The body goes out byte for byte: superagent would otherwise serialise a Buffer as JSON.
const post = (body: string | Buffer, type = 'application/json') =>
  stack
    .http()
    .post('/api/auth/register')
    .set('Content-Type', type)
    .set('X-Forwarded-For', uniqueIp())
    .serialize((b: unknown) => b as string)
    .send(body as string);

describe('the error model', () => {
  it('answers malformed JSON with 400 {error}', async () => {
    const res = await post('{"username": "a",');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^Malformed JSON/);
  });

  it('answers a body over the limit with 413 {error}', async () => {
    const res = await post(JSON.stringify({ username: 'x'.repeat(5000), password: 'password123' }));
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/larger than 4096 bytes/);
  });

  it('answers a wrong content type with 415 {error}', async () => {
    const res = await post('username=a&password=b', 'application/x-www-form-urlencoded');
    expect(res.status).toBe(415);
    expect(res.body.error).toMatch(/application\/json/);
  });

  it('answers invalid UTF-8 with 400 {error}', async () => {
    const res = await post(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/UTF-8/);
  });

  it('answers deeply nested JSON with 400 {error} naming the problem', async () => {
    const depth = 1500;
    const res = await post('['.repeat(depth) + ']'.repeat(depth));
    expect(res.status).toBe(400);
    expect(typeof res.body.error).toBe('string');
  });

  it('answers a missing body with 400 naming the body', async () => {
    const res = await stack.http().post('/api/auth/register').set('X-Forwarded-For', uniqueIp());
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/body/);
  });

  it('answers a wrong type in a field with 400 naming the field', async () => {
    const res = await post(JSON.stringify({ username: 42, password: 'password123' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/username/);
  });

  it('answers an unknown route with 404 {error} and a wrong method with 405 {error}', async () => {
    const missing = await stack.http().get('/api/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/No route/);
    const wrongMethod = await stack.http().delete('/api/auth/login');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error).toMatch(/not allowed/);
  });

  it('answers 401 {error} on a protected route without credentials', async () => {
    const res = await stack.http().get('/api/users');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'Authentication required: log in or send an API Bearer token' });
  });

  it('echoes a request id on every response', async () => {
    const res = await stack.http().get('/api/health').set('X-Request-Id', 'trace-123');
    expect(res.headers['x-request-id']).toBe('trace-123');
    expect((await stack.http().get('/api/health')).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('input the database cannot store', () => {
  it('answers a NUL character in JSON text with 400, not a database error', async () => {
    const res = await post(JSON.stringify({ username: 'nul_user_1', password: 'password123', displayName: 'a\u0000b' }));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/NUL/);
  });

  it('answers an unknown HTTP method with 405 {error}', async () => {
    const res = await stack.http().trace('/api/auth/login');
    expect(res.status).toBe(405);
  });
});

it('answers a NUL character in the query string with 400', async () => {
  const owner = await signedInAccount(stack);
  const res = await owner.agent.get('/api/users?search=a%00b');
  expect(res.status).toBe(400);
  expect(res.body.error).toMatch(/NUL/);
});
