import { ConfigurableModuleBuilder, type Provider, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AdminController } from './admin.controller.js';
import { AuthController } from './auth.controller.js';
import { AUTH_ROUTES } from './auth.constants.js';
import type { AuthModuleExtras, AuthModuleOptions, AuthRoutesOptions } from './auth-options.interface.js';
import { JwtAuthGuard } from './guards/jwt-auth.guard.js';
import { JwksController } from './jwks.controller.js';
import { OAuthController } from './oauth.controller.js';
import { RegisterController } from './register.controller.js';
import { SessionsController } from './sessions.controller.js';

/**
 * `AuthModule`'s base class and option token, built by Nest's `ConfigurableModuleBuilder`. The
 * token reads `AUTH_MODULE_OPTIONS`. `routes`, `globalGuard` and `isGlobal` are extras: they
 * decide which controllers and guards the module declares, so they sit beside `useFactory`.
 */
export const {
  ConfigurableModuleClass: ConfigurableAuthModule,
  MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE: AUTH_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: AUTH_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
  .setClassMethodName('forRoot')
  .setExtras<AuthModuleExtras>({ isGlobal: true, routes: {}, globalGuard: true }, (definition, extras) => {
    const routes = resolveRoutes(extras.routes);
    const providers: Provider[] = [...(definition.providers ?? []), { provide: AUTH_ROUTES, useValue: routes }];
    // One guard does authentication, roles and scopes, in that order.
    if (extras.globalGuard !== false) providers.push({ provide: APP_GUARD, useClass: JwtAuthGuard });
    return { ...definition, global: extras.isGlobal !== false, controllers: controllersFor(routes), providers };
  })
  .build();

function resolveRoutes(routes: AuthRoutesOptions | undefined): Required<AuthRoutesOptions> {
  return {
    register: routes?.register !== false,
    sessions: routes?.sessions !== false,
    admin: routes?.admin !== false,
    oauth: routes?.oauth !== false,
    jwks: routes?.jwks !== false,
  };
}

function controllersFor(routes: Required<AuthRoutesOptions>): Type[] {
  return [
    AuthController,
    ...(routes.register ? [RegisterController] : []),
    ...(routes.sessions ? [SessionsController] : []),
    ...(routes.admin ? [AdminController] : []),
    ...(routes.oauth ? [OAuthController] : []),
    ...(routes.jwks ? [JwksController] : []),
  ];
}
