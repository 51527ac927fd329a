import { SetMetadata } from '@nestjs/common';

/** Metadata key of {@link Roles}. */
export const ROLES_KEY = 'AUTH:ROLES';

/**
 * Requires the caller to have at least one of the roles (else 403 `insufficient_role`).
 * A handler's roles replace its controller's.
 *
 * @example @Roles('admin') @Get('admin/notes') all() {}
 */
export const Roles = (...roles: string[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES_KEY, roles);
