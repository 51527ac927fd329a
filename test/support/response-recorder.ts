import type { Response } from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';
import type { TestInstance } from './test-context.js';

/** Every response an instance gave through {@link recordResponses}, in order. */
export type ResponseLog = Response[];

/**
 * Wraps an instance so that every response to a request made through its `http()` is kept, for
 * checks that span a whole file ("no response ever contains a password").
 *
 * @example const { instance, responses } = recordResponses(await context.start());
 */
export function recordResponses(target: TestInstance): { instance: TestInstance; responses: ResponseLog } {
  const responses: ResponseLog = [];
  const http = (): TestAgent =>
    new Proxy(target.http(), {
      get(agent, property, receiver) {
        const value: unknown = Reflect.get(agent, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result: unknown = value.apply(agent, args);
          // Request methods return a supertest Test, an event emitter that emits 'response'.
          if (result && typeof (result as { on?: unknown }).on === 'function') {
            (result as { on(event: 'response', listener: (response: Response) => void): void }).on(
              'response',
              (response) => responses.push(response),
            );
          }
          return result;
        };
      },
    });
  return { instance: { ...target, http }, responses };
}

/** A response as one searchable string: status line, every header and the raw body. */
export function responseText(response: Response): string {
  const headers = Object.entries(response.headers as Record<string, string | string[]>)
    .map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`)
    .join('\n');
  return `${response.status}\n${headers}\n\n${response.text ?? ''}`;
}
