import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { SecurityEventsModule } from '../security-events/security-events.module.js';
import { TokensModule } from '../tokens/tokens.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccessTokenService } from './access-token.service.js';
import { AdminController } from './admin.controller.js';
import { AuthController } from './auth.controller.js';
import { AUTH_MODULE_OPTIONS, ConfigurableAuthModule } from './auth.module-definition.js';
import { AuthService } from './auth.service.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { RolesGuard } from './guards/roles.guard.js';
import { ScopesGuard } from './guards/scopes.guard.js';
import { CredentialRateLimitGuard } from './guards/credential-rate-limit.guard.js';
import { JwksController } from './jwks.controller.js';
import { JwtStrategy } from './jwt.strategy.js';
import { rateLimitStoreProvider } from './rate-limit.providers.js';
import { LoginLimiter } from './login-limiter.service.js';
import { OAuthController } from './oauth.controller.js';
import { OAuthService } from './oauth.service.js';
import { RefreshTokenTransport } from './refresh-token-transport.js';

/**
 * Authentication for the whole app: register it once with `AuthModule.forRoot(options)` (or
 * `forRootAsync`) and every route needs an access token unless it is `@Public()`.
 *
 * @example imports: [TypeOrmModule.forRoot({ ..., entities: AUTH_ENTITIES, migrations: AUTH_MIGRATIONS }), AuthModule.forRoot(options)]
 */
@Module({
  imports: [JwtModule.register({}), UsersModule, TokensModule, SecurityEventsModule],
  controllers: [AuthController, AdminController, JwksController, OAuthController],
  providers: [
    AccessTokenService,
    AuthService,
    JwtStrategy,
    RefreshTokenTransport,
    OAuthService,
    rateLimitStoreProvider,
    LoginLimiter,
    CredentialRateLimitGuard,
    // Global guards run in this order: authenticate, then roles, then scopes.
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
    { provide: APP_GUARD, useClass: ScopesGuard },
  ],
  // The options are global (see the module definition) so the token and user modules read them too.
  exports: [AUTH_MODULE_OPTIONS, AccessTokenService, AuthService, TokensModule],
})
export class AuthModule extends ConfigurableAuthModule {}
