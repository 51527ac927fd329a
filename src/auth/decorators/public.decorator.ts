import { SetMetadata } from '@nestjs/common';

/** Metadata key of {@link Public}. */
export const IS_PUBLIC_KEY = 'AUTH:PUBLIC';

/**
 * Opens a route or controller to unauthenticated callers; every other route needs an access token.
 *
 * @example @Public() @Get('status') status() {}
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);
