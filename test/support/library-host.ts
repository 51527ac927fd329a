import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Post,
  UseGuards,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory, RouterModule } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import {
  Column,
  Entity,
  PrimaryColumn,
  Table,
  type MigrationInterface,
  type QueryRunner,
  type Repository,
} from 'typeorm';
import {
  AUTH_ENTITIES,
  AUTH_MIGRATIONS,
  AuthModule,
  AuthService,
  CurrentUser,
  EmailTakenError,
  JwtAuthGuard,
  Public,
  Roles,
  Scopes,
  type AuthEventPayload,
  type AuthModuleExtras,
  type AuthModuleOptions,
  type AuthUser,
  type AuthUserRecord,
  type UserStore,
} from '../../src/index.js';
import { SERVICES, type TestContext } from './test-context.js';

/** A host's own users: table `accounts`, with a `plan` the library knows nothing of. */
@Entity('accounts')
export class Account {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 320, unique: true })
  email!: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255, nullable: true })
  passwordHash!: string | null;

  @Column({ type: 'varchar', length: 200 })
  roles!: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  scopes!: string | null;

  @Column({ type: 'boolean', default: false })
  disabled!: boolean;

  @Column({ type: 'varchar', length: 20, default: 'free' })
  plan!: string;
}

/** The host's migration for its accounts. */
export class Accounts1800000000000 implements MigrationInterface {
  name = 'Accounts1800000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'accounts',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'email', type: 'varchar', length: '320', isUnique: true },
          { name: 'password_hash', type: 'varchar', length: '255', isNullable: true },
          { name: 'roles', type: 'varchar', length: '200' },
          { name: 'scopes', type: 'varchar', length: '500', isNullable: true },
          { name: 'disabled', type: 'boolean', default: false },
          { name: 'plan', type: 'varchar', length: '20', default: "'free'" },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('accounts');
  }
}

/** The host's UserStore over its `accounts` table; ids are not UUIDs on purpose. */
@Injectable()
export class AccountsUserStore implements UserStore {
  constructor(@InjectRepository(Account) readonly accounts: Repository<Account>) {}

  async findByEmail(email: string): Promise<AuthUserRecord | null> {
    return toRecord(await this.accounts.findOneBy({ email }));
  }

  async findById(id: string): Promise<AuthUserRecord | null> {
    return toRecord(await this.accounts.findOneBy({ id }));
  }

  async create(input: { email: string; passwordHash: string; name: string | null }): Promise<AuthUserRecord> {
    if (await this.accounts.existsBy({ email: input.email })) throw new EmailTakenError();
    const account = this.accounts.create({
      id: `acct_${randomBytes(6).toString('hex')}`,
      email: input.email,
      passwordHash: input.passwordHash,
      roles: 'member',
      scopes: null,
      disabled: false,
      plan: 'free',
    });
    await this.accounts.insert(account);
    return toRecord(account)!;
  }

  async updatePassword(id: string, passwordHash: string): Promise<void> {
    await this.accounts.update({ id }, { passwordHash });
  }
}

function toRecord(account: Account | null): AuthUserRecord | null {
  if (!account) return null;
  return {
    id: account.id,
    email: account.email,
    passwordHash: account.passwordHash,
    roles: account.roles.split(',').filter(Boolean),
    ...(account.scopes !== null ? { scopes: account.scopes.split(' ').filter(Boolean) } : {}),
    disabled: account.disabled,
  };
}

/** Keeps what the library emits, and has one listener that always throws. */
@Injectable()
export class EventLog {
  readonly events: AuthEventPayload[] = [];

  @OnEvent('auth.*')
  record(event: AuthEventPayload): void {
    this.events.push(event);
  }

  @OnEvent('auth.login')
  explode(): void {
    throw new Error('a listener of the host failed');
  }
}

@Module({
  imports: [TypeOrmModule.forFeature([Account])],
  providers: [AccountsUserStore, EventLog],
  exports: [AccountsUserStore, EventLog],
})
export class AccountsModule {}

/** The host's own routes: signup through AuthService, one guarded controller, open ones. */
@Controller()
export class HostController {
  constructor(
    private readonly auth: AuthService,
    private readonly store: AccountsUserStore,
  ) {}

  @Public()
  @Post('signup')
  async signup(@Body() body: { email: string; password: string; plan?: string }) {
    const user = await this.auth.register({ email: body.email, password: body.password });
    await this.store.accounts.update({ id: user.id }, { plan: body.plan ?? 'free' });
    return { id: user.id };
  }

  @Get('healthz')
  healthz() {
    return { ok: true };
  }
}

@Controller('private')
@UseGuards(JwtAuthGuard)
export class PrivateController {
  @Get('me')
  me(@CurrentUser() user: AuthUser) {
    return { id: user.id, roles: user.roles, scopes: user.scopes };
  }

  @Get('staff')
  @Roles('staff')
  staff() {
    return { staff: true };
  }

  @Get('reports')
  @Scopes('reports:read')
  reports() {
    return { reports: [] };
  }
}

@Module({ imports: [AccountsModule], controllers: [HostController, PrivateController] })
class HostFeatureModule {}

/** How to build one host app. */
export interface HostOptions {
  extras?: AuthModuleExtras;
  options?: Partial<AuthModuleOptions>;
  /** Mount the library under this RouterModule path. */
  routerPath?: string;
  globalPrefix?: string;
  events?: boolean;
  /** Express middleware of the host's own, run before every route (a host's own session login, say). */
  middleware?: (
    request: { headers: Record<string, unknown>; user?: unknown },
    response: unknown,
    next: () => void,
  ) => void;
}

/** A host app running in process. */
export interface HostApp {
  app: INestApplication;
  http: () => TestAgent;
  store: AccountsUserStore;
  events: EventLog;
}

/** Builds and starts a host app of the library on the test context's database (no filter, no pipe of ours). */
export async function startHost(context: TestContext, host: HostOptions = {}): Promise<HostApp> {
  const env = context.baseEnv();
  const database = SERVICES
    ? { type: 'postgres' as const, url: env.DATABASE_URL }
    : { type: 'better-sqlite3' as const, database: join(context.dataDir, 'host.sqlite') };
  const authModule = AuthModule.forRootAsync({
    imports: [AccountsModule],
    inject: [AccountsUserStore],
    useFactory: (users: AccountsUserStore): AuthModuleOptions => ({
      users,
      jwt: { secret: 'host-secret-'.padEnd(48, 'k') + randomUUID(), issuer: 'https://host.test', audience: 'host-api' },
      cookie: { secure: false },
      defaultScopes: ['reports:read'],
      credentialRateLimit: 100_000,
      ...(SERVICES ? { redis: { url: env.REDIS_URL!, keyPrefix: env.REDIS_KEY_PREFIX! } } : {}),
      ...host.options,
    }),
    ...host.extras,
  });
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...database,
        entities: [...AUTH_ENTITIES, Account],
        migrations: [...AUTH_MIGRATIONS, Accounts1800000000000],
        migrationsRun: true,
        synchronize: false,
      }),
      ...(host.events === false ? [] : [EventEmitterModule.forRoot({ wildcard: true })]),
      authModule,
      HostFeatureModule,
      ...(host.routerPath ? [RouterModule.register([{ path: host.routerPath, module: AuthModule }])] : []),
    ],
  })
  class HostAppModule {}
  const app = await NestFactory.create(HostAppModule as unknown as DynamicModule, {
    logger: false,
    abortOnError: false,
  });
  if (host.globalPrefix) app.setGlobalPrefix(host.globalPrefix);
  if (host.middleware) app.use(host.middleware);
  await app.init();
  return {
    app,
    http: () => request(app.getHttpServer()),
    store: app.get(AccountsUserStore),
    events: app.get(EventLog),
  };
}
