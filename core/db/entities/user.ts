import { EntitySchema, OptionalProps } from '@mikro-orm/core';

export const roles = ['admin', 'owner', 'user'] as const;
export type Role = (typeof roles)[number];
export const themes = ['light', 'dark', 'system'] as const;
export type Theme = (typeof themes)[number];

export class User {
  [OptionalProps]?: 'role' | 'disabled' | 'apiAccessApproved' | 'language' | 'theme' | 'createdAt' | 'updatedAt';
  id!: string;
  tenantId!: string;
  username!: string;
  email?: string | null;
  phone?: string | null;
  displayName!: string;
  /** Null for accounts that only sign in with Google. */
  passwordHash?: string | null;
  googleSub?: string | null;
  role: Role = 'user';
  disabled = false;
  apiAccessApproved = false;
  language = 'en';
  theme: Theme = 'system';
  emailVerifiedAt?: Date | null;
  phoneVerifiedAt?: Date | null;
  createdAt: Date = new Date();
  updatedAt: Date = new Date();
}

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'users',
  properties: {
    id: { type: 'uuid', primary: true },
    tenantId: { type: 'uuid', index: true },
    username: { type: 'string', unique: true },
    email: { type: 'string', nullable: true, unique: true },
    phone: { type: 'string', nullable: true },
    displayName: { type: 'string' },
    passwordHash: { type: 'string', nullable: true },
    googleSub: { type: 'string', nullable: true, unique: true },
    role: { type: 'string' },
    disabled: { type: 'boolean' },
    apiAccessApproved: { type: 'boolean' },
    language: { type: 'string' },
    theme: { type: 'string' },
    emailVerifiedAt: { type: 'Date', nullable: true },
    phoneVerifiedAt: { type: 'Date', nullable: true },
    createdAt: { type: 'Date', onCreate: () => new Date() },
    updatedAt: { type: 'Date', onCreate: () => new Date(), onUpdate: () => new Date() },
  },
});
