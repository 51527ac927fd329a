import {
  ParseUUIDPipe,
  ValidationPipe,
  type ArgumentMetadata,
  type PipeTransform,
  type ValidationError,
} from '@nestjs/common';
import { AuthError, type FieldError } from './auth.error.js';

/** Deepest nesting of objects and arrays accepted in a body or query; none of ours nests past 2. */
export const MAX_INPUT_DEPTH = 16;

/**
 * The validation pipe of our routes (and of the service's): unknown fields are rejected, and
 * failures become `validation_failed` with one `details` entry per field. Before
 * class-transformer sees anything, the input is scanned without recursion: nesting deeper than
 * {@link MAX_INPUT_DEPTH}, strings that are not well-formed Unicode (a lone UTF-16 surrogate)
 * and NUL characters (PostgreSQL cannot store them) are refused.
 *
 * @example @UsePipes(createValidationPipe())
 */
export function createValidationPipe(): ValidationPipe {
  return new ContractValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors: ValidationError[]) => new AuthError('validation_failed', undefined, flatten(errors)),
  });
}

/** Values this pipe produced: a second run (the service's global pipe, then a controller's) is free. */
const validated = new WeakSet<object>();

class ContractValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (typeof value === 'object' && value !== null && validated.has(value)) return value;
    const problem = inspectInput(value);
    if (problem) {
      const field = [metadata.data, problem.path].filter(Boolean).join('.') || metadata.type;
      throw new AuthError('validation_failed', undefined, [{ field, messages: [`${field} ${problem.message}`] }]);
    }
    const result: unknown = await super.transform(value, metadata);
    if (typeof result === 'object' && result !== null && result !== value) validated.add(result);
    return result;
  }
}

/**
 * Finds the first thing in a parsed input that no route accepts: too deep a nesting, or a
 * string (key or value) with a lone surrogate or a NUL. Iterative, so no input can overflow the
 * stack; returns the dotted path and why.
 *
 * @example inspectInput(JSON.parse(body)) // { path: 'email', message: 'must be well-formed Unicode' }
 */
export function inspectInput(value: unknown): { path: string; message: string } | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      const message = stringProblem(item.value);
      if (message) return { path: item.path, message };
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth >= MAX_INPUT_DEPTH)
      return { path: item.path, message: `must not nest deeper than ${MAX_INPUT_DEPTH} levels` };
    for (const [key, child] of Object.entries(item.value)) {
      const path = item.path ? `${item.path}.${key}` : key;
      const message = stringProblem(key);
      if (message) return { path, message: `(a field name) ${message}` };
      stack.push({ value: child, path, depth: item.depth + 1 });
    }
  }
  return undefined;
}

function stringProblem(text: string): string | undefined {
  if (!text.isWellFormed()) return 'must be well-formed Unicode';
  if (text.includes('\u0000')) return 'must not contain NUL characters';
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

/**
 * Validates a user id route parameter: a host's store may use any id, so anything from 1 to 255
 * well-formed characters without control characters.
 *
 * @example @Param('id', userIdParam('id')) id: string
 */
export function userIdParam(field: string): PipeTransform<string, string> {
  return {
    transform(value: string): string {
      if (
        typeof value !== 'string' ||
        value.length < 1 ||
        value.length > 255 ||
        !value.isWellFormed() ||
        hasControlCharacter(value)
      ) {
        throw new AuthError('validation_failed', undefined, [{ field, messages: [`${field} must be a user id`] }]);
      }
      return value;
    },
  };
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
