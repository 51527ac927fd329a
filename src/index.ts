// The package's public API: `import { AuthModule, Public, CurrentUser, Roles } from 'nest-refresh-auth'`.
export * from './auth/index.js';
export { AccessTokenService } from './auth/access-token.service.js';
export { AuthError, type FieldError } from './common/auth.error.js';
export type { AuthErrorCode } from './common/auth-error-code.js';
export { AuthExceptionFilter } from './common/auth-exception.filter.js';
export { createValidationPipe } from './common/validation.pipe.js';
export { loadConfig, type AppConfig } from './config/app.config.js';
export { loadKeyRing, generatePrivateKeyPem, type KeyRing, type JwtAlgorithm } from './config/signing-keys.js';
export { ConfigError } from './config/config.error.js';
export { AUTH_ENTITIES, AUTH_MIGRATIONS } from './database/database.options.js';
export { runMigrations } from './database/migrate.js';
export { RevocationStore, type SessionStatus } from './tokens/revocation-store.interface.js';
export { createApp } from './app.factory.js';
