import { ParseUUIDPipe, ValidationPipe, type ValidationError } from '@nestjs/common';
import { AuthError, type FieldError } from './auth.error.js';

/**
 * The global validation pipe: unknown fields are rejected, and failures become
 * `validation_failed` with one `details` entry per field.
 *
 * @example app.useGlobalPipes(createValidationPipe());
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors: ValidationError[]) => new AuthError('validation_failed', undefined, flatten(errors)),
  });
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Validates a UUID route parameter, failing with `validation_failed` like a body field.
 *
 * @example @Param('id', uuidParam('id')) id: string
 */
export function uuidParam(field: string): ParseUUIDPipe {
  return new ParseUUIDPipe({
    exceptionFactory: () =>
      new AuthError('validation_failed', undefined, [{ field, messages: [`${field} must be a UUID`] }]),
  });
}
