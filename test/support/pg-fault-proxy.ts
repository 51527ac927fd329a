import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * Where a trap cuts the connection: `before` the statement reaches the server (it never runs),
 * or `after` it (the server runs and commits it, the answer is lost on the way back).
 */
export type CutMode = 'before' | 'after';

/** A trap set on one statement; `fired` resolves once the connection is cut. */
export interface Trap {
  readonly label: string;
  readonly occurrence: number;
  readonly mode: CutMode;
  readonly fired: Promise<void>;
  readonly hasFired: boolean;
}

/**
 * Statements the instance sends on its own, whatever request is in flight (the revocation poll,
 * the health ping, the hourly maintenance): never recorded, never trapped.
 */
const BACKGROUND = /^(nra_revoked_since|nra_clock|nra_purge_\w+|SELECT 1|SELECT pg_(try_)?advisory\w*|SELECT version)/;

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/**
 * A short, stable name for a statement: the prepared statement's name when it has one (the
 * session store names all of its statements), else the verb and the first table of its SQL
 * (`SELECT users`, `UPDATE users`, `INSERT security_events`, `BEGIN`).
 */
export function statementLabel(name: string, text: string): string {
  if (name) return name;
  const sql = text.trim().replace(/\s+/g, ' ');
  const verb = (sql.split(' ')[0] ?? '').toUpperCase();
  const table = /\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?/i.exec(sql)?.[1];
  if (verb === 'SELECT' && !table) return sql.slice(0, 60);
  return table ? `${verb} ${table}` : verb;
}

/** One statement on its way: its messages up to and including Sync (or one simple Query). */
interface Unit {
  name: string;
  text: string;
  messages: Buffer[];
}

/**
 * A TCP proxy in front of PostgreSQL that reads the frontend side of the wire protocol, so a test
 * can see which statements a request sends and cut the connection at exactly one of them. It
 * groups each extended-protocol statement (Parse?/Bind/Describe/Execute/Sync) or simple Query,
 * names it ({@link statementLabel}), and forwards it, unless a trap is set on it: then only that
 * connection dies, as when the server's backend is killed or the network drops, while the pool's
 * other connections go on working.
 */
export class PgFaultProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private recording: string[] | null = null;
  private trap: (Trap & { seen: number; fire: () => void; hasFired: boolean }) | null = null;
  private listeningOn = 0;

  private constructor(targetHost: string, targetPort: number) {
    this.server = createServer((client) => this.accept(client, targetHost, targetPort));
  }

  /** Listens on a free loopback port and forwards to `targetHost:targetPort`. */
  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<PgFaultProxy> {
    const proxy = new PgFaultProxy(targetHost, targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', resolve);
    });
    proxy.listeningOn = (proxy.server.address() as { port: number }).port;
    return proxy;
  }

  /** The port it listens on. */
  get port(): number {
    return this.listeningOn;
  }

  /** Starts recording the labels of the statements that pass (background ones excepted). */
  record(): void {
    this.recording = [];
  }

  /** Stops recording and returns what was seen, in order. */
  recorded(): string[] {
    const seen = this.recording ?? [];
    this.recording = null;
    return seen;
  }

  /**
   * Cuts the connection that carries the `occurrence`-th statement labelled `label` from now on,
   * `before` or `after` it reaches the server; one trap at a time.
   */
  arm(label: string, occurrence: number, mode: CutMode): Trap {
    let fire!: () => void;
    const fired = new Promise<void>((resolve) => (fire = resolve));
    const trap = { label, occurrence, mode, fired, seen: 0, fire, hasFired: false };
    this.trap = trap;
    return trap;
  }

  /** Removes the trap, fired or not. */
  disarm(): void {
    this.trap = null;
  }

  /** Drops every connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    const upstream = connect(port, host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    let forwardReplies = true;
    upstream.on('data', (chunk: Buffer) => {
      if (forwardReplies) client.write(chunk);
    });
    upstream.on('close', () => {
      if (forwardReplies) client.destroy();
    });
    client.on('close', () => upstream.destroy());

    let pending = Buffer.alloc(0);
    let startup = true;
    let unit: Unit | null = null;
    let dead = false;

    const cut = (mode: CutMode, last: Unit) => {
      dead = true;
      forwardReplies = false;
      if (mode === 'before') {
        upstream.destroy();
        client.destroy();
        return;
      }
      // The statement goes through and the server is told the client left; the backend runs
      // what it received (and commits it) before it reads the end of the stream and exits, and
      // only then does the client see its connection die.
      upstream.once('close', () => client.destroy());
      upstream.end(Buffer.concat(last.messages));
    };

    const finish = (done: Unit) => {
      unit = null;
      const label = statementLabel(done.name, done.text);
      const trap = this.trap;
      if (!BACKGROUND.test(label)) {
        this.recording?.push(label);
        if (trap && !trap.hasFired && trap.label === label && ++trap.seen === trap.occurrence) {
          trap.hasFired = true;
          cut(trap.mode, done);
          if (trap.mode === 'before') trap.fire();
          else upstream.once('close', () => trap.fire());
          return;
        }
      }
      upstream.write(Buffer.concat(done.messages));
    };

    client.on('data', (chunk: Buffer) => {
      if (dead) return;
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (startup) {
          if (pending.length < 8) return;
          const length = pending.readInt32BE(0);
          if (pending.length < length) return;
          const message = pending.subarray(0, length);
          pending = pending.subarray(length);
          const code = message.readInt32BE(4);
          // After an SSL or GSS request the client sends its startup message; anything else
          // (the startup message itself, a cancel request) ends the untyped phase.
          if (code !== SSL_REQUEST && code !== GSS_REQUEST) startup = code === CANCEL_REQUEST;
          upstream.write(message);
          continue;
        }
        if (pending.length < 5) return;
        const total = 1 + pending.readInt32BE(1);
        if (pending.length < total) return;
        const message = Buffer.from(pending.subarray(0, total));
        pending = pending.subarray(total);
        const type = String.fromCharCode(message[0]!);
        if (type === 'Q') {
          finish({ name: '', text: cstrings(message, 1)[0] ?? '', messages: [message] });
        } else if (type === 'P' || type === 'B' || type === 'D' || type === 'E' || type === 'C' || type === 'H') {
          unit ??= { name: '', text: '', messages: [] };
          unit.messages.push(message);
          if (type === 'P' && !unit.name && !unit.text) {
            const [name, text] = cstrings(message, 2);
            unit.name = name ?? '';
            unit.text = text ?? '';
          }
          if (type === 'B' && !unit.name) unit.name = cstrings(message, 2)[1] ?? '';
        } else if (type === 'S' && unit) {
          unit.messages.push(message);
          finish(unit);
        } else {
          // Password, Terminate, a lone Sync: not statements of their own.
          upstream.write(message);
        }
        if (dead) return;
      }
    });
  }
}

/** The first `count` NUL-terminated strings of a message body (after the type byte and length). */
function cstrings(message: Buffer, count: number): string[] {
  const strings: string[] = [];
  let offset = 5;
  for (let i = 0; i < count && offset < message.length; i++) {
    const end = message.indexOf(0, offset);
    if (end < 0) break;
    strings.push(message.toString('utf8', offset, end));
    offset = end + 1;
  }
  return strings;
}
