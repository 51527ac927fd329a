import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Who is calling, as recorded on sessions and security events. */
export interface ClientContext {
  ip: string | null;
  userAgent: string | null;
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
  return {
    // An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d; record it as a.b.c.d.
    ip: request.ip?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '').slice(0, 64) ?? null,
    userAgent: request.get('user-agent')?.slice(0, 512) ?? null,
  };
}
