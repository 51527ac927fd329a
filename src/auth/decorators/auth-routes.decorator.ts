import { applyDecorators, UseFilters, UseGuards, UsePipes } from '@nestjs/common';
import { AuthExceptionFilter, OAuthExceptionFilter } from '../../common/auth-exception.filter.js';
import { createValidationPipe } from '../../common/validation.pipe.js';
import { JwtAuthGuard } from '../guards/jwt-auth.guard.js';

/**
 * What every built-in controller carries, so it behaves the same in any host: our validation,
 * our error format (RFC 6749 form on the OAuth routes), and the access-token guard (which does
 * nothing more when the global guard already ran).
 */
export function AuthRoutes(options: { oauth?: boolean } = {}): ClassDecorator {
  return applyDecorators(
    UseFilters(options.oauth ? OAuthExceptionFilter : AuthExceptionFilter),
    UsePipes(createValidationPipe()),
    UseGuards(JwtAuthGuard),
  );
}
