// The package's root entry, the library: `import { AuthModule, Public, CurrentUser } from 'nest-refresh-auth'`.
// It loads no app module, no example module and no health checks, and maps no route by itself.
export * from './auth/index.js';
export { AuthModule } from './auth/auth.module.js';
export { AUTH_MODULE_OPTIONS } from './auth/auth.module-definition.js';
export { AUTH_CONFIG } from './auth/auth.constants.js';
export type {
  AuthModuleOptions,
  AuthModuleExtras,
  AuthRoutesOptions,
  AuthJwtOptions,
  AuthRedisOptions,
  AuthLoginLimitOptions,
  AuthCookieOptions,
  AuthCacheOptions,
  AuthPasswordHashingOptions,
  Duration,
} from './auth/auth-options.interface.js';
export { resolveAuthOptions, type AuthConfig } from './auth/auth-options.js';
export { AuthOptionsError } from './auth/auth-options.error.js';
export {
  AuthService,
  type TokenResponse,
  type SessionInfo,
  type AccountView,
  type SessionOwner,
} from './auth/auth.service.js';
export { AccessTokenService } from './auth/access-token.service.js';
export { AuthEvents, type AuthEventPayload, type AuthEventType } from './auth/auth-events.service.js';
export { generatePrivateKeyPem, thumbprint, JWT_ALGORITHMS, type JwtAlgorithm, type KeyRing } from './auth/key-ring.js';
export { AuthError, type AuthErrorBody, type FieldError } from './common/auth.error.js';
export type { AuthErrorCode } from './common/auth-error-code.js';
export { AuthExceptionFilter } from './common/auth-exception.filter.js';
export { createValidationPipe, uuidParam } from './common/validation.pipe.js';
export { ApiErrors } from './common/api-errors.decorator.js';
export { addAuthSecurity, type SecuritySchemeBuilder } from './common/swagger.js';
export type { ClientInfo } from './common/client-context.js';
export { HttpDrain } from './common/http-drain.service.js';
export { AuthMetrics } from './metrics/auth-metrics.service.js';
export { RevocationService } from './tokens/revocation.service.js';
export { MaintenanceService } from './tokens/maintenance.service.js';
export { UserStore, EmailTakenError, type AuthUserRecord } from './users/user-store.interface.js';
export { TypeOrmUserStore, DEFAULT_ROLE, normalizeEmail } from './users/typeorm-user.store.js';
export { PasswordHasher } from './users/password-hasher.service.js';
export { User } from './users/user.entity.js';
export { AUTH_ENTITIES, AUTH_MIGRATIONS, USER_ENTITIES, USER_MIGRATIONS } from './database/database.entities.js';
export { runMigrations } from './database/migrate.js';
