import { TestWorkflowEnvironment } from '@temporalio/testing';
import { migrate, openOrm } from '../../core/db/orm';
import { resolveTemporalCli } from '../../dev/tools';
import { freePort } from '../support/free-port';
import { openTestStack, type TestStack } from '../support/stack';
import { startPostgresProcess, type PostgresProcess } from '../support/postgres-process';
import { uniqueIp } from '../support/accounts';

describe('GET /api/health', () => {
  it('answers 200 with the state of the database and Temporal when both are up', async () => {
    const stack = await openTestStack();
    try {
      const res = await stack.http().get('/api/health');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', database: { ok: true }, temporal: { ok: true } });
    } finally {
      await stack.close();
    }
  });

  describe('with a database of its own that is then stopped', () => {
    let pg: PostgresProcess;
    let stack: TestStack;

    beforeAll(async () => {
      pg = await startPostgresProcess('health');
      const url = pg.url;
      const orm = await openOrm(url);
      await migrate(orm);
      await orm.close();
      stack = await openTestStack({ DATABASE_URL: url });
    });

    afterAll(async () => {
      await stack.close().catch(() => undefined);
      await pg.dispose();
    });

    it('reports 503 while PostgreSQL is down, answers other requests with 503 {error}, and recovers when it is back', async () => {
      expect((await stack.http().get('/api/health')).status).toBe(200);
      await pg.stop();
      const down = await stack.http().get('/api/health');
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'unavailable', database: { ok: false }, temporal: { ok: true } });
      const login = await stack.http().post('/api/auth/login').set('X-Forwarded-For', uniqueIp()).send({ username: 'x', password: 'y' });
      expect(login.status).toBe(503);
      expect(login.body.error).toMatch(/database is unavailable/);
      await pg.start();
      expect((await stack.http().get('/api/health')).status).toBe(200);
    });
  });

  it('reports 503 when Temporal is down', async () => {
    const temporal = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: resolveTemporalCli() }, ip: '127.0.0.1', port: await freePort(), log: { format: 'pretty', level: 'error' } },
    });
    const stack = await openTestStack({ TEMPORAL_ADDRESS: temporal.address });
    try {
      expect((await stack.http().get('/api/health')).status).toBe(200);
      await temporal.teardown();
      const res = await stack.http().get('/api/health');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'unavailable', database: { ok: true }, temporal: { ok: false } });
    } finally {
      await stack.close().catch(() => undefined);
    }
  });
});
