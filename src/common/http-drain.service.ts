import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AUTH_CONFIG } from '../auth/auth.constants.js';
import type { AuthConfig } from '../auth/auth-options.js';

/** What is known of one connection while the server drains. */
interface Connection {
  /** Requests received and not yet answered. */
  active: number;
  /** Their responses, so a drain can still mark them `Connection: close`. */
  responses: Set<ServerResponse>;
  /** When it last started or finished a request (or connected). */
  lastActivity: number;
  /** `socket.bytesRead` at that moment: more since means a request is arriving. */
  bytesRead: number;
}

/** The listener stays open this long after shutdown begins, so connections already queued are accepted. */
const ACCEPT_GRACE_MS = 200;
/** An idle connection is closed once nothing has arrived on it for this long. */
const IDLE_LINGER_MS = 250;
/** Time kept back from the shutdown timeout for closing the database and Redis. */
const CLOSE_RESERVE_MS = 1500;

/**
 * Graceful drain of the HTTP server on `app.close()` (the service calls it on SIGTERM), before
 * the database and Redis close: readiness turns false at once, the listener keeps accepting for
 * a moment (so connections already in the kernel's queue are not reset) and then closes, every
 * request already received gets its full response, and keep-alive connections are closed after
 * their current response (`Connection: close`) or once idle. Within `shutdownTimeout`, whatever
 * is left is cut.
 *
 * Node's own `server.close()` is not used for this: it also closes connections that have been
 * accepted but whose request is still unread, losing it.
 */
@Injectable()
export class HttpDrain implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private readonly connections = new Map<Socket, Connection>();
  private server?: Server;
  private draining = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** `false` once shutdown has begun: what a readiness probe answers. */
  get ready(): boolean {
    return !this.draining;
  }

  /**
   * Marks the instance as not ready, ahead of `app.close()` (the signal arrived): readiness
   * answers 503 and every response not yet started will close its connection.
   */
  beginDrain(): void {
    this.draining = true;
    for (const connection of this.connections.values()) {
      for (const response of connection.responses) if (!response.headersSent) response.setHeader('Connection', 'close');
    }
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer?.() as Server | undefined;
    if (!server || typeof server.on !== 'function') return;
    this.server = server;
    server.on('connection', (socket: Socket) => {
      this.connections.set(socket, { active: 0, responses: new Set(), lastActivity: Date.now(), bytesRead: 0 });
      socket.once('close', () => this.connections.delete(socket));
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const connection = this.connections.get(request.socket);
      if (!connection) return;
      connection.active++;
      connection.responses.add(response);
      connection.lastActivity = Date.now();
      // Once draining, every response tells the client this connection ends with it.
      if (this.draining && !response.headersSent) response.setHeader('Connection', 'close');
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        connection.active--;
        connection.responses.delete(response);
        connection.lastActivity = Date.now();
        connection.bytesRead = request.socket.bytesRead;
        if (this.draining && connection.active === 0) request.socket.end();
      };
      response.once('finish', done);
      response.once('close', done);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  private async drain(): Promise<void> {
    this.beginDrain();
    const server = this.server;
    if (!server?.listening) return;
    const deadline = Date.now() + Math.max(1000, this.config.shutdownTimeout * 1000 - CLOSE_RESERVE_MS);
    await sleep(ACCEPT_GRACE_MS);
    // Stops accepting. Its callback would only run once every connection has ended: not awaited.
    NetServer.prototype.close.call(server);
    const initial = this.connections.size;
    while (this.connections.size > 0 && Date.now() < deadline) {
      const now = Date.now();
      for (const [socket, connection] of this.connections) {
        if (connection.active > 0) continue;
        if (socket.bytesRead !== connection.bytesRead) {
          // Bytes of a request are arriving: wait for it, it will be answered.
          connection.bytesRead = socket.bytesRead;
          connection.lastActivity = now;
        } else if (now - connection.lastActivity >= IDLE_LINGER_MS) {
          socket.end();
          socket.destroySoon?.();
        }
      }
      await sleep(25);
    }
    const cut = this.connections.size;
    for (const socket of this.connections.keys()) socket.destroy();
    if (initial > 0)
      this.logger.log(`drained ${initial - cut} connections${cut > 0 ? `, cut ${cut} at the timeout` : ''}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
