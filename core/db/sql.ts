import type { EntityManager } from '@mikro-orm/postgresql';

/** Raw SQL statements, run where the entity manager runs them. */
export interface Sql {
  execute<T = Array<Record<string, unknown>>>(sql: string, params?: unknown[]): Promise<T>;
}

/**
 * Raw SQL on the entity manager's connection, inside its transaction when it is in one. The connection's own
 * `execute` takes a free pooled connection unless it is handed the transaction: inside `em.transactional`, a
 * statement made with `em.getConnection().execute(...)` commits on its own and a `for update` there locks
 * nothing the transaction holds.
 */
export function sqlOf(em: EntityManager): Sql {
  return {
    execute: async <T>(sql: string, params: unknown[] = []) => (await em.getConnection().execute(sql, params, 'all', em.getTransactionContext())) as T,
  };
}

/**
 * Inserts a row unless its unique key is taken (`insert` ends with `on conflict ... do nothing`), and returns the
 * row either way in one statement: a statement's select does not see its own insert, so a new row comes from the
 * insert's `returning` and an existing one from `select` (which must end in a where clause). When another
 * session's insert committed after the statement began, only a second statement sees it.
 */
export async function insertOrSelect<T>(
  sql: Sql,
  q: { insert: string; insertParams: unknown[]; returning: string; select: string; selectParams: unknown[] },
): Promise<T | undefined> {
  const [row] = await sql.execute<T[]>(
    `with inserted as (${q.insert} returning ${q.returning})
     select * from inserted
     union all
     ${q.select} and not exists (select 1 from inserted)`,
    [...q.insertParams, ...q.selectParams],
  );
  return row ?? (await sql.execute<T[]>(q.select, q.selectParams))[0];
}
