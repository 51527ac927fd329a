import { SetMetadata } from '@nestjs/common';

/** Metadata key of {@link Scopes}. */
export const SCOPES_KEY = 'AUTH:SCOPES';

/**
 * Requires the access token to carry every one of the scopes (else 403 `insufficient_scope`).
 * A handler's scopes replace its controller's.
 *
 * @example @Scopes('notes:write') @Post() create() {}
 */
export const Scopes = (...scopes: string[]): MethodDecorator & ClassDecorator => SetMetadata(SCOPES_KEY, scopes);
