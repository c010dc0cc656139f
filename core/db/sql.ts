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
