import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app.config.js';
import { readEnvironment } from '../config/environment.js';
import { dataSourceOptions } from './database.options.js';

/** The data source the TypeORM CLI uses (`npm run migration:run`), from the same configuration as the app. */
export default new DataSource(dataSourceOptions(loadConfig(readEnvironment()).database));
