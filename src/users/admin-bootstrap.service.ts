import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AUTH_MODULE_OPTIONS } from '../auth/auth.module-definition.js';
import type { AuthModuleOptions } from '../auth/auth-module-options.interface.js';
import { UsersService } from './users.service.js';

/** Creates the `ADMIN_EMAIL` account with the `admin` role at start-up when it is absent. */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.admin) return;
    await this.users.ensureAdmin(this.options.admin.email, this.options.admin.password);
    this.logger.log('admin account is present');
  }
}
