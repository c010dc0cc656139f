import { randomBytes } from 'node:crypto';
import { sqlOf } from '../../core/db/sql';
import { openTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await openTestStack();
});
afterAll(async () => stack?.close());

const txid = async (execute: () => Promise<Array<{ id: string }>>) => (await execute())[0].id;

describe('raw SQL inside a transaction', () => {
  it('runs in the entity manager\'s transaction, where the connection\'s own execute would not', async () => {
    const em = stack.orm.em.fork();
    const ids = await em.transactional(async (tem) => ({
      ours: await txid(() => sqlOf(tem).execute(`select txid_current()::text as id`)),
      again: await txid(() => sqlOf(tem).execute(`select txid_current()::text as id`)),
      orm: await txid(() => tem.execute(`select txid_current()::text as id`)),
      connection: await txid(() => tem.getConnection().execute(`select txid_current()::text as id`)),
    }));
    expect(ids.ours).toBe(ids.again);
    expect(ids.ours).toBe(ids.orm);
    expect(ids.connection).not.toBe(ids.ours);
  });

  it('is rolled back with the transaction', async () => {
    const table = `sql_of_probe_${randomBytes(4).toString('hex')}`;
    const em = stack.orm.em.fork();
    await expect(
      em.transactional(async (tem) => {
        await sqlOf(tem).execute(`create table ${table} (x integer)`);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const [{ found }] = await sqlOf(em).execute<Array<{ found: string | null }>>(`select to_regclass(?)::text as found`, [table]);
    expect(found).toBeNull();
  });
});
