import { SecurityEvent } from '../security-events/security-event.entity.js';
import { RefreshToken } from '../tokens/refresh-token.entity.js';
import { Session } from '../tokens/session.entity.js';
import { User } from '../users/user.entity.js';
import { AuthSessions1767225600000 } from './migrations/1767225600000-auth-sessions.js';
import { AuthUsers1767225600001 } from './migrations/1767225600001-auth-users.js';

/** Entities of the library's own tables, for the host's TypeORM data source. */
export const AUTH_ENTITIES = [Session, RefreshToken, SecurityEvent];

/** Migrations of the library's own tables, in order. */
export const AUTH_MIGRATIONS = [AuthSessions1767225600000];

/** Entity of the built-in user store (the `users` table): only when the `users` option is left out. */
export const USER_ENTITIES = [User];

/** Migrations of the built-in user store's `users` table. */
export const USER_MIGRATIONS = [AuthUsers1767225600001];
