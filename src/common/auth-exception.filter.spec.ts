import { jest } from '@jest/globals';
import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
  UnauthorizedException,
  type ArgumentsHost,
} from '@nestjs/common';
import { AuthExceptionFilter } from './auth-exception.filter.js';
import { AuthError } from './auth.error.js';

/** The parts of an Express response the filter uses, recording what it was told. */
class FakeResponse {
  headersSent = false;
  statusCode?: number;
  body?: Record<string, unknown>;
  readonly headers: Record<string, string> = {};

  setHeader(name: string, value: string): this {
    this.headers[name.toLowerCase()] = value;
    return this;
  }

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  json(body: Record<string, unknown>): this {
    this.body = body;
    return this;
  }
}

function hostFor(response: FakeResponse, path = '/auth/me'): ArgumentsHost {
  const request = { method: 'GET', path, url: path, headers: {} };
  return {
    switchToHttp: () => ({ getResponse: () => response, getRequest: () => request, getNext: () => undefined }),
    getType: () => 'http',
  } as unknown as ArgumentsHost;
}

/** Runs the filter on an exception and returns what the response got. */
function handle(exception: unknown, path?: string): FakeResponse {
  const response = new FakeResponse();
  new AuthExceptionFilter().catch(exception, hostFor(response, path));
  return response;
}

function expectContract(response: FakeResponse, status: number, code: string): void {
  expect(response.statusCode).toBe(status);
  expect(response.body).toMatchObject({ statusCode: status, code, message: expect.any(String) });
  const keys = Object.keys(response.body!).sort();
  expect(keys).toEqual(
    code === 'validation_failed' && 'details' in response.body!
      ? ['code', 'details', 'message', 'statusCode']
      : ['code', 'message', 'statusCode'],
  );
}

describe('AuthExceptionFilter', () => {
  const logged: unknown[][] = [];

  beforeEach(() => {
    logged.length = 0;
    // The filter logs unexpected errors; keep them out of the test output but look at them.
    jest.spyOn(Logger.prototype, 'error').mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers an AuthError with the contract JSON', () => {
    const response = handle(new AuthError('email_taken'));
    expectContract(response, 409, 'email_taken');
    expect(response.body).toEqual({ statusCode: 409, code: 'email_taken', message: 'Email is already registered' });
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('adds details to validation_failed', () => {
    const details = [{ field: 'email', messages: ['email must be an email'] }];
    const response = handle(new AuthError('validation_failed', undefined, details));
    expectContract(response, 400, 'validation_failed');
    expect(response.body!.details).toEqual(details);
  });

  it('challenges token_missing with a bare Bearer realm', () => {
    const response = handle(new AuthError('token_missing'));
    expectContract(response, 401, 'token_missing');
    expect(response.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it.each(['token_expired', 'token_invalid', 'token_revoked'] as const)(
    'challenges %s with error="invalid_token"',
    (code) => {
      const response = handle(new AuthError(code));
      expectContract(response, 401, code);
      expect(response.headers['www-authenticate']).toMatch(
        /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/,
      );
    },
  );

  it('challenges insufficient_scope with error="insufficient_scope"', () => {
    const response = handle(new AuthError('insufficient_scope'));
    expectContract(response, 403, 'insufficient_scope');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="insufficient_scope"/);
  });

  it('does not challenge a refresh-token error', () => {
    const response = handle(new AuthError('refresh_token_invalid'));
    expectContract(response, 401, 'refresh_token_invalid');
    expect(response.headers['www-authenticate']).toBeUndefined();
  });

  it('answers NotFoundException with not_found', () => {
    expectContract(handle(new NotFoundException()), 404, 'not_found');
    expectContract(handle(new NotFoundException('Cannot GET /nowhere')), 404, 'not_found');
    const note = handle(new NotFoundException('Note not found'));
    expectContract(note, 404, 'not_found');
    expect(note.body!.message).toBe('Note not found');
  });

  it('answers a 413 from the body parser with payload_too_large', () => {
    // body-parser's http-errors object, as Express hands it over when unmapped.
    const tooLarge = Object.assign(new Error('request entity too large'), {
      status: 413,
      statusCode: 413,
      expose: true,
      type: 'entity.too.large',
      length: 20_000,
      limit: 16_384,
    });
    expectContract(handle(tooLarge), 413, 'payload_too_large');
    expectContract(
      handle(new HttpException('request entity too large', 413, { cause: tooLarge })),
      413,
      'payload_too_large',
    );
    expectContract(handle(new PayloadTooLargeException()), 413, 'payload_too_large');
  });

  it('answers a malformed JSON body with validation_failed, without quoting it', () => {
    const body = '{"email":"a@b.c","password":"hunter2-secret", oops';
    const syntax = new SyntaxError(`Unexpected token 'o', "${body}" is not valid JSON`);
    const response = handle(new BadRequestException(syntax.message, { cause: syntax }));
    expectContract(response, 400, 'validation_failed');
    expect(JSON.stringify(response.body)).not.toContain('hunter2-secret');
  });

  it.each([
    [
      'a pg connection refused',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    [
      'a TypeORM error wrapping a pg shutdown',
      Object.assign(new Error('terminating connection due to administrator command'), {
        driverError: { code: '57P01' },
      }),
    ],
    ['a pg pool timeout', new Error('timeout exceeded when trying to connect')],
  ])('answers %s with 503 service_unavailable', (_label, error) => {
    const response = handle(error);
    expectContract(response, 503, 'service_unavailable');
    expect(JSON.stringify(response.body)).not.toContain('5432');
  });

  it('answers an unknown error with 500 internal_error without leaking its message', () => {
    const response = handle(
      new Error('duplicate key value violates constraint users_pkey: password_hash=$argon2id$v=19$secret'),
    );
    expectContract(response, 500, 'internal_error');
    expect(response.body!.message).toBe('Internal server error');
    expect(JSON.stringify(response.body)).not.toMatch(/argon2|secret|users_pkey/);
    expect(logged).toHaveLength(1);
  });

  it.each([null, undefined, 'a string', 42])('answers a thrown non-error %p with 500 internal_error', (thrown) => {
    expectContract(handle(thrown), 500, 'internal_error');
  });

  it('answers a 5xx HttpException with internal_error', () => {
    const response = handle(new HttpException('upstream said: secret detail', 502));
    expect(response.body!.code).toBe('internal_error');
    expect(JSON.stringify(response.body)).not.toContain('secret detail');
  });

  it('sets Retry-After on rate_limited with retryAfter', () => {
    const response = handle(new AuthError('rate_limited', 'Too many failed logins; retry later', undefined, 42));
    expectContract(response, 429, 'rate_limited');
    expect(response.headers['retry-after']).toBe('42');
  });

  it('answers a 429 HttpException with rate_limited', () => {
    expectContract(handle(new HttpException('ThrottlerException: Too Many Requests', 429)), 429, 'rate_limited');
  });

  it.each([
    // A guard that returns false (any guard of an app importing AuthModule) throws this one.
    ['ForbiddenException', new ForbiddenException(), 403],
    // What @nestjs/passport's AuthGuard throws for any other strategy.
    ['UnauthorizedException', new UnauthorizedException(), 401],
  ])('keeps the status of a %s, which is no validation failure', (_label, exception, status) => {
    const response = handle(exception);
    expect(response.statusCode).toBe(status);
    expect(response.body).toMatchObject({ statusCode: status });
    expect(response.body!.code).not.toBe('validation_failed');
  });

  it('writes nothing when the response has already been sent', () => {
    const response = new FakeResponse();
    response.headersSent = true;
    new AuthExceptionFilter().catch(new AuthError('token_missing'), hostFor(response));
    expect(response.statusCode).toBeUndefined();
    expect(response.body).toBeUndefined();
    expect(response.headers).toEqual({});
  });

  it('answers /oauth/* errors in RFC 6749 §5.2 form', () => {
    const response = handle(new AuthError('refresh_token_reused'), '/oauth/token');
    expect(response.statusCode).toBe(400);
    expect(response.body).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    expect(response.headers['cache-control']).toBe('no-store');
  });
});
