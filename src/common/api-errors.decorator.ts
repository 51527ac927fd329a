import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from './swagger.js';
import { AUTH_ERROR_MESSAGE, AUTH_ERROR_STATUS, type AuthErrorCode } from './auth-error-code.js';
import { ErrorResponseDto } from './error-response.dto.js';

/**
 * Documents the error responses a route can give, grouped by status, each code with an example.
 *
 * @example @ApiErrors('validation_failed', 'email_taken')
 */
export function ApiErrors(...codes: AuthErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, AuthErrorCode[]>();
  for (const code of codes)
    byStatus.set(AUTH_ERROR_STATUS[code], [...(byStatus.get(AUTH_ERROR_STATUS[code]) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, group]) =>
      ApiResponse({
        status,
        description: group.map((code) => `\`${code}\``).join(', '),
        type: ErrorResponseDto,
        examples: Object.fromEntries(
          group.map((code) => [
            code,
            { summary: code, value: { statusCode: status, code, message: AUTH_ERROR_MESSAGE[code] } },
          ]),
        ),
      }),
    ),
  );
}
