// `nest-refresh-auth/server`: the standalone service, one host of the library.
export { createApp, BODY_LIMIT } from './app.factory.js';
export { AppModule } from './app.module.js';
export { loadConfig, type AppConfig, type DatabaseConfig, type Environment } from './config/app.config.js';
export { readEnvironment } from './config/environment.js';
export { ConfigError } from './config/config.error.js';
export { dataSourceOptions } from './database/database.options.js';
