import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { hashPassword } from '../../core/auth/passwords';
import { createUserInTenant } from '../../core/auth/users';
import { ApiCredential, User, roles } from '../../core/db/entities';
import { AppError, notFound } from '../../core/errors';
import type { Principal } from '../middleware/auth';
import type { ApiDeps } from '../deps';
import { idParams, route } from '../route';
import { email, pagination, password, phone, username } from '../schemas';

/**
 * User administration. `admin` is the operator of this installation and manages every account (it is the
 * one who approves API use); `owner` manages the users of its own tenant; `user` manages nobody. A user of
 * another tenant is answered 404, as if absent.
 */
const managedUser = z.object({
  id: z.string().uuid(),
  tenantId: z.string().uuid(),
  username: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  role: z.enum(roles),
  disabled: z.boolean(),
  apiAccessApproved: z.boolean(),
  hasApiCredentials: z.boolean(),
  createdAt: z.string(),
});

const createBody = z.object({
  username,
  password,
  displayName: z.string().trim().min(1).max(120).optional(),
  email: email.optional(),
  phone: phone.optional(),
  role: z.enum(roles).default('user'),
});

const updateBody = z
  .object({
    displayName: z.string().trim().min(1).max(120),
    email: email.nullable(),
    phone: phone.nullable(),
    password,
    role: z.enum(roles),
    disabled: z.boolean(),
    apiAccessApproved: z.boolean(),
  })
  .partial()
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one field to change' });

function scopeFilter(principal: Principal): Record<string, unknown> {
  return principal.role === 'admin' ? {} : { tenantId: principal.tenantId };
}

async function findManaged(em: EntityManager, principal: Principal, id: string): Promise<User> {
  const user = await em.findOne(User, { id, ...scopeFilter(principal) });
  if (!user) throw notFound('User');
  return user;
}

async function present(em: EntityManager, users: User[]) {
  const withKeys = new Set(
    (await em.find(ApiCredential, { userId: { $in: users.map((u) => u.id) } }, { fields: ['userId'] })).map((c) => c.userId),
  );
  return users.map((u) => ({
    id: u.id,
    tenantId: u.tenantId,
    username: u.username,
    displayName: u.displayName,
    email: u.email ?? null,
    phone: u.phone ?? null,
    role: u.role,
    disabled: u.disabled,
    apiAccessApproved: u.apiAccessApproved,
    hasApiCredentials: withKeys.has(u.id),
    createdAt: u.createdAt.toISOString(),
  }));
}

export function userRoutes(_deps: ApiDeps) {
  const managers = ['admin', 'owner'] as const;
  return [
    route({
      method: 'get',
      path: '/api/users',
      tag: 'Users',
      summary: 'List users (admin: all; owner: own tenant)',
      auth: 'session',
      roles: managers,
      query: pagination.extend({ tenantId: z.string().uuid().optional(), search: z.string().max(100).optional() }),
      responses: { 200: { description: 'A page of users', schema: z.object({ users: z.array(managedUser), total: z.number().int() }) } },
      async handler(ctx, { query, principal }) {
        const em: EntityManager = ctx.state.em;
        const where: Record<string, unknown> = { ...scopeFilter(principal!) };
        if (query.tenantId && principal!.role === 'admin') where.tenantId = query.tenantId;
        if (query.search) where.$or = [{ username: { $ilike: `%${query.search}%` } }, { email: { $ilike: `%${query.search}%` } }];
        const [users, total] = await em.findAndCount(User, where, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: query.limit, offset: query.offset });
        return { users: await present(em, users), total };
      },
    }),
    route({
      method: 'post',
      path: '/api/users',
      tag: 'Users',
      summary: "Create a user in the caller's tenant",
      auth: 'session',
      roles: managers,
      body: createBody,
      responses: { 201: { description: 'Created', schema: managedUser }, 409: { description: 'Username or e-mail taken' } },
      async handler(ctx, { body, principal }) {
        if (body.role === 'admin' && principal!.role !== 'admin') throw new AppError('forbidden', 'Only an administrator can create administrators');
        const em: EntityManager = ctx.state.em;
        const user = await createUserInTenant(em, principal!.tenantId, body);
        ctx.status = 201;
        return (await present(em, [user]))[0];
      },
    }),
    route({
      method: 'get',
      path: '/api/users/:id',
      tag: 'Users',
      summary: 'User details',
      auth: 'session',
      params: idParams,
      responses: { 200: { description: 'The user', schema: managedUser }, 404: { description: 'No such user in your scope' } },
      async handler(ctx, { params, principal }) {
        const em: EntityManager = ctx.state.em;
        if (principal!.role === 'user' && params.id !== principal!.userId) throw notFound('User');
        return (await present(em, [await findManaged(em, principal!, params.id)]))[0];
      },
    }),
    route({
      method: 'put',
      path: '/api/users/:id',
      tag: 'Users',
      summary: 'Update a user: approve API use (admin), change role, disable, reset password',
      auth: 'session',
      roles: managers,
      params: idParams,
      body: updateBody,
      responses: { 200: { description: 'Updated', schema: managedUser }, 404: { description: 'No such user in your scope' }, 409: { description: 'E-mail taken by another account' } },
      async handler(ctx, { params, body, principal }) {
        const em: EntityManager = ctx.state.em;
        const user = await findManaged(em, principal!, params.id);
        const isAdmin = principal!.role === 'admin';
        if (body.apiAccessApproved !== undefined && !isAdmin) throw new AppError('forbidden', 'Only an administrator can approve API use');
        if ((body.role === 'admin' || user.role === 'admin') && !isAdmin && body.role !== undefined) {
          throw new AppError('forbidden', 'Only an administrator can grant or remove the admin role');
        }
        if (user.id === principal!.userId && (body.disabled === true || (body.role !== undefined && body.role !== user.role))) {
          throw new AppError('invalid', 'You cannot disable your own account or change your own role');
        }
        if (body.email !== undefined && body.email !== user.email && body.email !== null && (await em.count(User, { email: body.email }))) {
          throw new AppError('conflict', `An account with e-mail "${body.email}" already exists`);
        }
        if (body.displayName !== undefined) user.displayName = body.displayName;
        if (body.email !== undefined) user.email = body.email;
        if (body.phone !== undefined) user.phone = body.phone;
        if (body.role !== undefined) user.role = body.role;
        if (body.disabled !== undefined) user.disabled = body.disabled;
        if (body.apiAccessApproved !== undefined) user.apiAccessApproved = body.apiAccessApproved;
        if (body.password !== undefined) user.passwordHash = await hashPassword(body.password);
        await em.flush();
        return (await present(em, [user]))[0];
      },
    }),
    route({
      method: 'delete',
      path: '/api/users/:id',
      tag: 'Users',
      summary: 'Delete a user',
      auth: 'session',
      roles: managers,
      params: idParams,
      responses: { 200: { description: 'Deleted', schema: z.object({ success: z.literal(true) }) }, 404: { description: 'No such user in your scope' } },
      async handler(ctx, { params, principal }) {
        const em: EntityManager = ctx.state.em;
        const user = await findManaged(em, principal!, params.id);
        if (user.id === principal!.userId) throw new AppError('invalid', 'You cannot delete your own account');
        if (user.role === 'admin' && principal!.role !== 'admin') throw notFound('User');
        await em.removeAndFlush(user);
        return { success: true };
      },
    }),
  ];
}
