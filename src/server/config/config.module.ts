import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { AppConfig } from './app.config.js';
import { APP_CONFIG } from './config.constants.js';

/**
 * Makes the validated configuration injectable everywhere: as `APP_CONFIG`, and as the `app`
 * namespace of `@nestjs/config`'s `ConfigService` for feature modules that prefer it.
 */
@Module({})
export class AppConfigModule {
  /** Registers an already validated configuration (see `loadConfig`). */
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      imports: [
        // Validation already happened in loadConfig; ConfigService only serves the typed result.
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          ignoreEnvVars: true,
          load: [() => ({ app: config })],
        }),
      ],
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG, ConfigModule],
    };
  }
}
