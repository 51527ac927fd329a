import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuthModule, runMigrations } from '../index.js';
import { AdminBootstrap } from './admin-bootstrap.service.js';
import type { AppConfig } from './config/app.config.js';
import { AppConfigModule } from './config/config.module.js';
import { dataSourceOptions } from './database/database.options.js';
import { HealthModule } from './health/health.module.js';
import { NotesModule } from './notes/notes.module.js';
import { ObservabilityModule } from './observability/observability.module.js';

/** The standalone service: one host of the library, plus the notes example, health and metrics. */
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
            try {
              await runMigrations(dataSource);
            } catch (error) {
              await dataSource.destroy().catch(() => undefined);
              throw error;
            }
            return dataSource;
          },
        }),
        AuthModule.forRoot(config.auth),
        NotesModule,
        HealthModule,
        ObservabilityModule.forRoot(config),
      ],
      providers: [AdminBootstrap],
    };
  }
}
