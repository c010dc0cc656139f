import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../errors';
import { Tenant, User, type Role } from '../db/entities';
import { newId } from '../ids';
import { hashPassword } from './passwords';

export interface NewAccount {
  username: string;
  password?: string;
  displayName?: string;
  email?: string;
  phone?: string;
  googleSub?: string;
  role?: Role;
  emailVerified?: boolean;
}

/** A person signing up gets a tenant of their own and owns it. */
export async function createAccount(em: EntityManager, input: NewAccount & { tenantName?: string }): Promise<User> {
  await assertUnique(em, input);
  return wrapUnique(() =>
    em.transactional(async (tem) => {
      const tenant = tem.create(Tenant, { id: newId(), name: input.tenantName ?? input.displayName ?? input.username });
      // Flushed first: the user row references it and the ORM knows the tables only as ids, not relations.
      await tem.flush();
      const user = await buildUser(tem, tenant.id, { role: 'owner', ...input });
      await tem.flush();
      return user;
    }),
  );
}

export async function createUserInTenant(em: EntityManager, tenantId: string, input: NewAccount): Promise<User> {
  await assertUnique(em, input);
  const user = await buildUser(em, tenantId, input);
  await wrapUnique(() => em.flush());
  return user;
}

async function buildUser(em: EntityManager, tenantId: string, input: NewAccount): Promise<User> {
  return em.create(User, {
    id: newId(),
    tenantId,
    username: input.username,
    displayName: input.displayName ?? input.username,
    email: input.email ?? null,
    phone: input.phone ?? null,
    googleSub: input.googleSub ?? null,
    passwordHash: input.password ? await hashPassword(input.password) : null,
    role: input.role ?? 'user',
    emailVerifiedAt: input.emailVerified ? new Date() : null,
  });
}

async function assertUnique(em: EntityManager, input: NewAccount): Promise<void> {
  if (await em.count(User, { username: input.username })) {
    throw new AppError('conflict', `Username "${input.username}" is already taken`);
  }
  if (input.email && (await em.count(User, { email: input.email }))) {
    throw new AppError('conflict', `An account with e-mail "${input.email}" already exists`);
  }
}

/** Two concurrent sign-ups can both pass the check above; the unique index settles it as a 409. */
async function wrapUnique<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if ((err as { code?: string }).code === '23505' || (err as Error).name === 'UniqueConstraintViolationException') {
      throw new AppError('conflict', 'An account with this username or e-mail already exists');
    }
    throw err;
  }
}

export function publicUser(user: User) {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    email: user.email ?? null,
    role: user.role,
  };
}
