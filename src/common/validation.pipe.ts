import { ParseUUIDPipe, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { AuthError, type FieldError } from './auth.error.js';

/**
 * The global validation pipe: unknown fields are rejected, and failures become
 * `validation_failed` with one `details` entry per field.
 *
 * @example app.useGlobalPipes(createValidationPipe());
 */
export function createValidationPipe(): ValidationPipe {
  return new ContractValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors: ValidationError[]) => new AuthError('validation_failed', undefined, flatten(errors)),
  });
}

/** class-validator's pipe, plus one rule for every string: no NUL character (PostgreSQL cannot store it). */
class ContractValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const field = nulField(value, metadata.data ?? '');
    if (field !== undefined) {
      throw new AuthError('validation_failed', undefined, [
        { field: field || metadata.type, messages: [`${field || metadata.type} must not contain NUL characters`] },
      ]);
    }
    return super.transform(value, metadata);
  }
}

function nulField(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const found = nulField(child, path ? `${path}.${key}` : key);
    if (found !== undefined) return found;
  }
  return undefined;
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
