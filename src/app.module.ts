import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthModule } from './auth/index.js';
import type { AppConfig } from './config/app.config.js';
import { APP_CONFIG } from './config/config.constants.js';
import { AppConfigModule } from './config/config.module.js';
import { dataSourceOptions } from './database/database.options.js';
import { runMigrations } from './database/migrate.js';
import { HealthModule } from './health/health.module.js';
import { NotesModule } from './notes/notes.module.js';

/** The service: configuration, database, auth and the feature modules. */
@Module({})
export class AppModule {
  /** Wires the app for an already validated configuration. */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        TypeOrmModule.forRootAsync({
          useFactory: () => dataSourceOptions(config.database),
          // Migrations run before anything is served; never `synchronize`.
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await runMigrations(dataSource);
            return dataSource;
          },
        }),
        AuthModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (app: AppConfig) => ({
            keys: app.jwt.keys,
            issuer: app.jwt.issuer,
            audience: app.jwt.audience,
            clockTolerance: app.jwt.clockTolerance,
            accessTokenTtl: app.jwt.accessTokenTtl,
            refreshTokenTtl: app.refreshTokenTtl,
            sessionMaxAge: app.sessionMaxAge,
            refreshReuseGrace: app.refreshReuseGrace,
            redis: app.redis,
            defaultScopes: app.defaultScopes,
            admin: app.admin,
            cookieSecure: app.cookieSecure,
            login: app.login,
            credentialRateLimit: app.credentialRateLimit,
            introspectionClients: app.introspectionClients,
          }),
        }),
        NotesModule,
        HealthModule,
      ],
    };
  }
}
