import type { TestAccount } from './accounts';

export interface IsolatedRoute {
  method: 'get' | 'put' | 'delete' | 'post' | 'patch';
  path: string;
  body?: unknown;
}

/**
 * Tenant isolation sweep: every route that takes a record id must answer 404 to a user of another tenant,
 * exactly as if the record did not exist, and must leave the record untouched. Each record type added to
 * FlowBot adds its routes to a call of this helper.
 */
export async function expectTenantIsolation(opts: {
  outsider: TestAccount;
  routes: IsolatedRoute[];
  stillThere: () => Promise<boolean>;
}): Promise<void> {
  for (const r of opts.routes) {
    const call = opts.outsider.agent[r.method](r.path);
    const res = r.body === undefined ? await call : await call.send(r.body as object);
    if (res.status !== 404 || typeof res.body?.error !== 'string') {
      throw new Error(`${r.method.toUpperCase()} ${r.path} answered ${res.status} ${JSON.stringify(res.body)} to another tenant; expected 404 {error}`);
    }
  }
  if (!(await opts.stillThere())) throw new Error('a request from another tenant changed or deleted the record');
}
