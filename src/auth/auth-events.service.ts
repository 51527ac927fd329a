import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ClientContext } from '../common/client-context.js';

/** Names of the events the library emits (with `@nestjs/event-emitter`), without the `auth.` prefix. */
export type AuthEventType =
  | 'registered'
  | 'login'
  | 'login_failed'
  | 'refresh'
  | 'logout'
  | 'session_revoked'
  | 'sessions_revoked'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'rate_limited';

/** What every event carries: never a token, a password or a hash. */
export interface AuthEventPayload {
  type: AuthEventType;
  /** `null` only for `rate_limited` of an email that has no account. */
  userId: string | null;
  sessionId?: string;
  ip?: string;
  userAgent?: string;
  at: Date;
}

interface Emitter {
  emit(event: string, ...values: unknown[]): boolean;
}

/**
 * Emits `auth.*` events after the database write, when the host registered
 * `EventEmitterModule.forRoot()`; without it nothing is emitted and nothing breaks. A listener
 * that throws never fails the request.
 *
 * @example @OnEvent('auth.refresh_token_reused') alert(event: AuthEventPayload) {}
 */
@Injectable()
export class AuthEvents implements OnApplicationBootstrap {
  private readonly logger = new Logger('AuthEvents');
  private emitter: Emitter | null = null;

  constructor(private readonly moduleRef: ModuleRef) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      // An optional peer: looked up only if the host has it.
      const { EventEmitter2 } = await import('@nestjs/event-emitter');
      this.emitter = this.moduleRef.get<Emitter>(EventEmitter2 as never, { strict: false });
    } catch {
      this.emitter = null;
    }
  }

  /** Emits `auth.<type>`. */
  emit(type: AuthEventType, userId: string | null, client: ClientContext | null, sessionId?: string | null): void {
    if (!this.emitter) return;
    const payload: AuthEventPayload = {
      type,
      userId,
      ...(sessionId ? { sessionId } : {}),
      ...(client?.ip ? { ip: client.ip } : {}),
      ...(client?.userAgent ? { userAgent: client.userAgent } : {}),
      at: new Date(),
    };
    try {
      const emitted = this.emitter.emit(`auth.${type}`, payload) as unknown;
      // An async listener's rejection must not become an unhandled one.
      if (emitted && typeof (emitted as Promise<unknown>).catch === 'function')
        (emitted as Promise<unknown>).catch(() => undefined);
    } catch (error) {
      this.logger.warn(`a listener of auth.${type} threw: ${(error as Error).message}`);
    }
  }
}
