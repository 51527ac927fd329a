import { Module, type Provider } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { HttpDrain } from '../common/http-drain.service.js';
import { AuthMetrics } from '../metrics/auth-metrics.service.js';
import { SecurityEventsService } from '../security-events/security-events.service.js';
import { MaintenanceService } from '../tokens/maintenance.service.js';
import { RevocationService } from '../tokens/revocation.service.js';
import { TOKENS_PROVIDERS } from '../tokens/tokens.providers.js';
import { TokensService } from '../tokens/tokens.service.js';
import { PasswordHasher } from '../users/password-hasher.service.js';
import { UserStore } from '../users/user-store.interface.js';
import { USERS_PROVIDERS } from '../users/users.providers.js';
import { AccessTokenService } from './access-token.service.js';
import { AuthEvents } from './auth-events.service.js';
import { AUTH_CONFIG } from './auth.constants.js';
import { AUTH_MODULE_OPTIONS, ConfigurableAuthModule } from './auth.module-definition.js';
import { resolveAuthOptions } from './auth-options.js';
import type { AuthModuleOptions } from './auth-options.interface.js';
import { AuthService } from './auth.service.js';
import { CredentialRateLimitGuard } from './guards/credential-rate-limit.guard.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { RolesGuard } from './guards/roles.guard.js';
import { ScopesGuard } from './guards/scopes.guard.js';
import { JwtStrategy } from './jwt.strategy.js';
import { LoginLimiter } from './login-limiter.service.js';
import { OAuthService } from './oauth.service.js';
import { rateLimitStoreProvider } from './rate-limit.providers.js';
import { RefreshTokenTransport } from './refresh-token-transport.js';

const configProvider: Provider = {
  provide: AUTH_CONFIG,
  inject: [AUTH_MODULE_OPTIONS],
  useFactory: (options: AuthModuleOptions) => resolveAuthOptions(options),
};

/**
 * Authentication for a Nest app: access tokens, rotating refresh tokens, revocation, the
 * built-in routes and guards. Register it once; by default every route then needs an access
 * token unless it is `@Public()`.
 *
 * One Nest module on purpose: its providers (from `tokens/`, `users/`, `security-events/`) need
 * the options wherever the host imports it, global or not.
 *
 * @example AuthModule.forRootAsync({ inject: [ConfigService], useFactory: (config) => ({ jwt: { … } }), routes: { register: false } })
 */
@Module({
  imports: [JwtModule.register({})],
  providers: [
    configProvider,
    AuthMetrics,
    ...TOKENS_PROVIDERS,
    RevocationService,
    TokensService,
    MaintenanceService,
    ...USERS_PROVIDERS,
    SecurityEventsService,
    AccessTokenService,
    JwtStrategy,
    JwtAuthGuard,
    RolesGuard,
    ScopesGuard,
    rateLimitStoreProvider,
    LoginLimiter,
    CredentialRateLimitGuard,
    RefreshTokenTransport,
    AuthEvents,
    AuthService,
    OAuthService,
    HttpDrain,
  ],
  exports: [
    AUTH_CONFIG,
    AuthService,
    AccessTokenService,
    JwtAuthGuard,
    RolesGuard,
    ScopesGuard,
    JwtStrategy,
    AuthMetrics,
    RevocationService,
    MaintenanceService,
    PasswordHasher,
    UserStore,
    HttpDrain,
  ],
})
export class AuthModule extends ConfigurableAuthModule {}
