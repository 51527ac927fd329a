import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminBootstrap } from './admin-bootstrap.service.js';
import { PasswordHasher } from './password-hasher.service.js';
import { User } from './user.entity.js';
import { UsersService } from './users.service.js';

/** Accounts and password hashing. */
@Module({
  imports: [TypeOrmModule.forFeature([User])],
  providers: [PasswordHasher, UsersService, AdminBootstrap],
  exports: [UsersService],
})
export class UsersModule {}
