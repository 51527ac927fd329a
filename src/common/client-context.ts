import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Who is calling, as recorded on sessions and security events. */
export interface ClientContext {
  ip: string | null;
  userAgent: string | null;
}

/** What a host passes about its caller to `AuthService` methods; every field optional. */
export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

/**
 * Reads the caller's IP (as Express resolves it, honouring `trust proxy`) and user agent.
 *
 * @example login(@Body() dto: LoginDto, @Client() client: ClientContext)
 */
export const Client = createParamDecorator((_: unknown, context: ExecutionContext): ClientContext => {
  const request = context.switchToHttp().getRequest<Request>();
  return clientContext(request);
});

/** The {@link ClientContext} of a request, truncated to what the columns hold. */
export function clientContext(request: Request): ClientContext {
  return toClientContext({ ip: request.ip, userAgent: request.get('user-agent') });
}

/**
 * A {@link ClientInfo} cleaned for storage: an IPv4 client of a dual-stack socket shows as
 * `::ffff:a.b.c.d` and is recorded as `a.b.c.d`; strings are cut to their columns and must be
 * well-formed.
 *
 * @example toClientContext({ ip: '::ffff:10.0.0.1' }) // { ip: '10.0.0.1', userAgent: null }
 */
export function toClientContext(client: ClientInfo | undefined): ClientContext {
  const clean = (value: string | null | undefined, length: number) =>
    typeof value === 'string' && value !== '' ? value.slice(0, length).toWellFormed().replaceAll('\u0000', '') : null;
  return {
    ip: clean(client?.ip?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ''), 64),
    userAgent: clean(client?.userAgent, 512),
  };
}
