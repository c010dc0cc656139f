import type { MikroORM } from '@mikro-orm/postgresql';
import { User } from '../db/entities';
import { randomToken } from '../ids';
import { createAccount } from './users';

export interface AdminBootstrapResult {
  created: boolean;
  username: string;
  /** Only when the password was generated here: shown once, never stored in plain text. */
  generatedPassword?: string;
}

/** Creates the first administrator on an empty installation; later runs leave accounts alone. */
export async function ensureAdmin(
  orm: MikroORM,
  admin: { username: string; password?: string },
): Promise<AdminBootstrapResult> {
  const em = orm.em.fork();
  const existing = await em.findOne(User, { role: 'admin' }, { orderBy: { createdAt: 'asc' } });
  if (existing) return { created: false, username: existing.username };
  const generatedPassword = admin.password ? undefined : randomToken(12);
  await createAccount(em, {
    username: admin.username,
    password: admin.password ?? generatedPassword,
    displayName: 'Administrator',
    role: 'admin',
    tenantName: 'Administration',
  });
  return { created: true, username: admin.username, generatedPassword };
}
