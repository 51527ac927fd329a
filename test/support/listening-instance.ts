import { createServer } from 'node:net';
import type { TestContext, TestInstance } from './test-context.js';

/** The loopback address the listening instances bind to. */
export const LOOPBACK = '127.0.0.1';

/**
 * A TCP port that was free a moment ago on the loopback interface: the OS picks one for port 0,
 * we read it and close the socket. Another process could take it before we listen again; on a
 * test machine that race is rare enough.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`unexpected server address: ${String(address)}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** An instance listening on a real port, with its own base URL as `JWT_ISSUER`. */
export interface ListeningInstance {
  instance: TestInstance;
  /** `http://127.0.0.1:<port>`, no trailing slash; also the issuer. */
  baseUrl: string;
  port: number;
}

/**
 * Starts an instance of the context on a free port of 127.0.0.1, with `JWT_ISSUER` set to the
 * server's own URL so that RFC 8414 discovery (issuer validation included) works against it.
 *
 * @example const { instance, baseUrl } = await startListening(context, { OAUTH_INTROSPECTION_CLIENTS: 'rs:secret' });
 */
export async function startListening(
  context: TestContext,
  overrides: Record<string, string | undefined> = {},
): Promise<ListeningInstance> {
  const port = await freePort();
  const baseUrl = `http://${LOOPBACK}:${port}`;
  const instance = await context.start({ JWT_ISSUER: baseUrl, ...overrides });
  await instance.app.listen(port, LOOPBACK);
  return { instance, baseUrl, port };
}
