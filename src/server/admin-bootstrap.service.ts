import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AuthError, AuthService, PasswordHasher, TypeOrmUserStore, UserStore } from '../index.js';
import { ConfigError } from './config/config.error.js';
import { APP_CONFIG } from './config/config.constants.js';
import type { AppConfig } from './config/app.config.js';

/**
 * Creates the `ADMIN_EMAIL` account with the `admin` role at start-up when it is absent. An
 * existing account is made admin only when `ADMIN_PASSWORD` is its password: registration is
 * open, so anyone could have taken the address first, and silently promoting their account
 * would hand them the admin role.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(UserStore) private readonly users: UserStore,
    private readonly auth: AuthService,
    private readonly hasher: PasswordHasher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.admin;
    if (!admin) return;
    if (!(this.users instanceof TypeOrmUserStore))
      throw new ConfigError('ADMIN_EMAIL', 'needs the built-in user store');
    let user = await this.users.findByEmail(admin.email);
    if (!user) {
      user = await this.auth
        .register({ email: admin.email, password: admin.password, name: 'Administrator' })
        .catch(async (error: unknown) => {
          // Another instance made it at the same moment.
          if (error instanceof AuthError && error.code === 'email_taken') return this.users.findByEmail(admin.email);
          throw error;
        });
      if (user) await this.users.grantRole(user.id, 'admin');
    } else if (!user.roles.includes('admin')) {
      if (!(await this.hasher.verify(user.passwordHash, admin.password))) {
        throw new ConfigError(
          'ADMIN_EMAIL',
          'an account with this email exists and ADMIN_PASSWORD is not its password; refusing to make it admin',
        );
      }
      await this.users.grantRole(user.id, 'admin');
    }
    this.logger.log('admin account is present');
  }
}
