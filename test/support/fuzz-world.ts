import { createHmac, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { register, uniqueEmail, type Tokens } from './auth-helpers.js';
import { readDevelopmentKey } from './access-tokens-jwt.js';
import { setCookies } from './cookies.js';
import {
  ACCOUNTS,
  Deep,
  Forged,
  Obj,
  Raw,
  Secret,
  Value,
  mutate,
  writeClaims,
  writeJson,
  type Piece,
  type Ref,
  type RequestSpec,
  type Template,
} from './fuzz-arbitraries.js';
import type { TestContext, TestInstance } from './test-context.js';

/** One account of the world, with a body-mode session, a cookie-mode session and a note. */
export interface WorldAccount {
  id: string;
  email: string;
  password: string;
  /** Passwords a `POST /auth/password` may have set; tried in turn when logging in again. */
  candidates: string[];
  tokens: Tokens;
  /** The refresh token rotated just before `tokens.refresh_token` (grace replay, then reuse). */
  previousRefresh: string;
  cookie: { access: string; refresh: string; csrf: string; sessionId: string };
  noteId: string;
}

/** A request as it goes over the wire, secrets included: never print it unredacted. */
export interface WireRequest {
  target: 'main' | 'limited';
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: Buffer;
  chunked: boolean;
}

/** A response as it came back. */
export interface WireResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** A request resolved against the world, with what it must not see echoed. */
export interface Materialized {
  wire: WireRequest;
  /** Secrets the request carried (whole or in part): none may appear in the response. */
  probes: string[];
  /** Accounts whose secrets or ids it used. */
  accounts: Set<number>;
  /** Successors a grace replay of a rotated token it sent answers with (they may come back). */
  replayable: string[];
  /** The `newPassword` it sent, if any. */
  newPassword?: string;
}

/** Routes whose success changes an account's sessions, so the world logs it in again. */
const SESSION_CHANGING = new Set([
  'POST /auth/refresh',
  'POST /auth/logout',
  'POST /auth/logout-all',
  'DELETE /auth/sessions/:id',
  'POST /auth/password',
  'POST /admin/users/:id/revoke-sessions',
  'POST /oauth/token',
  'POST /oauth/revoke',
]);
/** Routes whose success rotates a refresh token. */
const ROTATING = new Set(['POST /auth/refresh', 'POST /oauth/token']);
/** Codes that say an account's session has ended. */
const SESSION_ENDED = new Set(['refresh_token_reused', 'refresh_token_revoked', 'token_revoked']);
/** The one introspection client of the world. */
const CLIENT_ID = 'fuzz-rs';
/** The admin that `ADMIN_EMAIL` makes at start-up. */
const ADMIN_EMAIL = 'fuzz-admin@example.com';

/**
 * The fuzz suite's world: two instances on real ports (raised limits, and default ones), a few
 * real accounts with live sessions, and everything needed to resolve a generated request's
 * references into real tokens and passwords. After each batch it logs in again the accounts
 * whose sessions the batch ended, so requests keep reaching deep code.
 */
export class FuzzWorld {
  readonly accounts: WorldAccount[] = [];
  private readonly staleAccess: string[] = [];
  private readonly staleRefresh: string[] = [];
  private readonly touched = new Set<number>();
  private readonly notesGone = new Set<number>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly ports = { main: 0, limited: 0 };
  private signingKey!: KeyObject;
  private publicPem!: string;

  constructor(
    private readonly context: TestContext,
    readonly main: TestInstance,
    readonly limited: TestInstance,
    private readonly adminPassword: string,
    private readonly clientSecret: string,
  ) {}

  /** The environment both instances need (admin account, introspection client). */
  static sharedEnv(adminPassword: string, clientSecret: string): Record<string, string> {
    return {
      ADMIN_EMAIL,
      ADMIN_PASSWORD: adminPassword,
      OAUTH_INTROSPECTION_CLIENTS: `${CLIENT_ID}:${clientSecret}`,
    };
  }

  /** Listens on real ports, registers the accounts and logs each in both ways. */
  async setup(): Promise<void> {
    for (const [name, instance] of [
      ['main', this.main],
      ['limited', this.limited],
    ] as const) {
      await instance.app.listen(0, '127.0.0.1');
      this.ports[name] = (instance.app.getHttpServer().address() as AddressInfo).port;
    }
    this.signingKey = readDevelopmentKey(this.context.dataDir);
    this.publicPem = createPublicKey(this.signingKey).export({ type: 'spki', format: 'pem' }).toString();
    for (let index = 0; index < ACCOUNTS; index += 1) {
      const account =
        index === 0
          ? { id: '', email: ADMIN_EMAIL, password: this.adminPassword }
          : await register(this.main, uniqueEmail(`fuzz${index}`), `fuzz password ${randomBytes(6).toString('hex')}`);
      this.accounts.push({
        ...account,
        candidates: [],
        ...(await this.bodySession(account)),
        cookie: await this.cookieSession(account),
        noteId: '',
      });
      this.accounts[index]!.id ||= (await this.me(this.accounts[index]!.tokens.access_token)).id;
      this.accounts[index]!.noteId = await this.createNote(this.accounts[index]!);
    }
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /** Resolves a generated request into wire form, noting its secrets. */
  materialize(spec: RequestSpec): Materialized {
    const probes = new Set<string>();
    const accounts = new Set<number>();
    const replayable: string[] = [];
    let newPassword: string | undefined;
    const resolve = (ref: Ref): string => {
      accounts.add(ref.account);
      const text = this.resolve(ref);
      if (!(ref instanceof Value)) for (const probe of probesOf(text)) probes.add(probe);
      if (ref instanceof Secret && ref.kind === 'password' && text.length >= 8) probes.add(text);
      if (ref instanceof Secret && ref.kind === 'clientSecret') probes.add(this.clientSecret);
      if (ref instanceof Secret && ref.kind === 'previousRefresh' && ref.mutation.op === 'none') {
        replayable.push(this.accounts[ref.account]!.tokens.refresh_token);
      }
      return text;
    };
    const join = (pieces: Piece[]) =>
      pieces.map((piece) => (typeof piece === 'string' ? piece : resolve(piece))).join('');
    const notePasswords = (entries: Array<[string, Template]>) => {
      for (const [key, value] of entries) {
        if (!/password/i.test(key)) continue;
        const text = typeof value === 'string' ? value : value instanceof Secret ? resolve(value) : undefined;
        if (text !== undefined && looksSecret(text)) probes.add(text);
        if (key === 'newPassword' && text !== undefined) newPassword = text;
      }
    };
    let body: Buffer;
    switch (spec.body.kind) {
      case 'none':
        body = Buffer.alloc(0);
        break;
      case 'json':
        if (spec.body.value instanceof Obj) notePasswords(spec.body.value.entries);
        body = Buffer.from(writeJson(spec.body.value, resolve), 'utf8');
        break;
      case 'form':
        notePasswords(spec.body.fields);
        body = Buffer.from(
          spec.body.fields
            .map(([key, value]) => `${formEncode(key)}=${formEncode(formValue(value, resolve))}`)
            .join('&'),
          'latin1',
        );
        break;
      case 'raw':
        body = Buffer.from(join(spec.body.pieces), spec.body.encoding);
        break;
      case 'bytes':
        body = Buffer.from(spec.body.bytes);
        break;
    }
    const path = safePath(join(spec.path) + (spec.query ? `?${join(spec.query)}` : ''));
    const headers = spec.headers.map(([name, value]) => [name, safeHeader(join(value))] as [string, string]);
    return {
      wire: { target: spec.target, method: spec.method, path, headers, body, chunked: spec.chunked },
      probes: [...probes],
      accounts,
      replayable,
      ...(newPassword !== undefined ? { newPassword } : {}),
    };
  }

  /** Sends a request over a keep-alive connection; retries once when a reused socket was closed under it. */
  async send(wire: WireRequest): Promise<WireResponse> {
    try {
      return await this.sendOnce(wire);
    } catch (error) {
      if ((error as { reused?: boolean }).reused) return this.sendOnce(wire);
      throw error;
    }
  }

  /** Notes what a response did to the world, for {@link heal}: rotations are adopted, ended sessions marked. */
  observe(spec: RequestSpec, request: Materialized, response: WireResponse): void {
    const ok = response.status >= 200 && response.status < 300;
    const code = (response.json as { code?: unknown } | null)?.code;
    if (ok && ROTATING.has(spec.route)) this.adopt(response);
    if ((ok && SESSION_CHANGING.has(spec.route)) || (typeof code === 'string' && SESSION_ENDED.has(code))) {
      for (const account of request.accounts) this.touched.add(account);
    }
    if (ok && spec.route === 'POST /auth/password' && request.newPassword !== undefined) {
      for (const account of request.accounts) this.accounts[account]!.candidates.push(request.newPassword);
    }
    if (ok && spec.route === 'DELETE /notes/:id') for (const account of request.accounts) this.notesGone.add(account);
  }

  /**
   * Gets the accounts the last batch touched live again: a session that no longer answers
   * `GET /auth/me` (or whose password may have changed) is replaced by a new login.
   */
  async heal(): Promise<void> {
    const touched = [...this.touched];
    this.touched.clear();
    await Promise.all(
      touched.map(async (index) => {
        const account = this.accounts[index]!;
        if (account.candidates.length > 0) {
          const password = await this.currentPassword(account);
          Object.assign(account, { password, candidates: [] });
          Object.assign(account, await this.bodySession(account), { cookie: await this.cookieSession(account) });
          return;
        }
        const [body, cookie] = await Promise.all([
          this.alive(account.tokens.access_token),
          this.alive(account.cookie.access),
        ]);
        if (!body) {
          this.keepStale(this.staleAccess, account.tokens.access_token);
          this.keepStale(this.staleRefresh, account.tokens.refresh_token);
          Object.assign(account, await this.bodySession(account));
        }
        if (!cookie) {
          this.keepStale(this.staleRefresh, account.cookie.refresh);
          account.cookie = await this.cookieSession(account);
        }
      }),
    );
    const gone = [...this.notesGone];
    this.notesGone.clear();
    for (const index of gone) this.accounts[index]!.noteId = await this.createNote(this.accounts[index]!);
  }

  /** A successful rotation of one of the world's sessions: its new tokens become the live ones. */
  private adopt(response: WireResponse): void {
    const body = response.json as Partial<Tokens> | undefined;
    if (!body?.session_id || !body.access_token) return;
    for (const account of this.accounts) {
      if (body.session_id === account.tokens.session_id && body.refresh_token) {
        // A grace replay answers with the live token again: the predecessor stays what it was.
        if (body.refresh_token !== account.tokens.refresh_token) account.previousRefresh = account.tokens.refresh_token;
        account.tokens = body as Tokens;
      }
      const cookies = cookiesSet(response.headers['set-cookie']);
      if (body.session_id === account.cookie.sessionId && cookies.refresh_token && cookies.csrf_token) {
        account.cookie = {
          ...account.cookie,
          access: body.access_token,
          refresh: cookies.refresh_token,
          csrf: cookies.csrf_token,
        };
      }
    }
  }

  /** Every secret the world holds, for redacting reports. */
  secrets(): string[] {
    const all = [this.adminPassword, this.clientSecret, ...this.staleAccess, ...this.staleRefresh];
    for (const account of this.accounts) {
      all.push(
        account.password,
        ...account.candidates,
        account.tokens.access_token,
        account.tokens.refresh_token,
        account.previousRefresh,
        account.cookie.access,
        account.cookie.refresh,
        account.cookie.csrf,
      );
    }
    return all.filter((secret) => secret.length >= 8);
  }

  private resolve(ref: Ref): string {
    const account = this.accounts[ref.account]!;
    if (ref instanceof Value) {
      switch (ref.kind) {
        case 'email':
          return ref.variant === 'upper'
            ? account.email.toUpperCase()
            : ref.variant === 'spaces'
              ? `  ${account.email} `
              : ref.variant === 'tabs'
                ? `\t${account.email}\n`
                : account.email;
        case 'userId':
          return account.id;
        case 'sessionId':
          return account.tokens.session_id;
        case 'cookieSessionId':
          return account.cookie.sessionId;
        case 'noteId':
          return account.noteId;
      }
    }
    if (ref instanceof Forged) return this.forge(ref, account);
    const pick = (list: string[], fallback: string) => list[ref.account % Math.max(1, list.length)] ?? fallback;
    const base = {
      password: account.password,
      access: account.tokens.access_token,
      refresh: account.tokens.refresh_token,
      previousRefresh: account.previousRefresh,
      cookieAccess: account.cookie.access,
      cookieRefresh: account.cookie.refresh,
      csrf: account.cookie.csrf,
      staleAccess: pick(this.staleAccess, account.cookie.access),
      staleRefresh: pick(this.staleRefresh, account.previousRefresh),
      clientSecret: Buffer.from(`${CLIENT_ID}:${this.clientSecret}`).toString('base64'),
    }[ref.kind];
    return mutate(base, ref.mutation);
  }

  private forge(ref: Forged, account: WorldAccount): string {
    const [headerSegment, payloadSegment] = account.tokens.access_token.split('.');
    const header = JSON.parse(Buffer.from(headerSegment!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const payload = JSON.parse(Buffer.from(payloadSegment!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const claims = writeClaims({ ...payload, jti: randomBytes(8).toString('hex') }, ref.claims);
    const headers: Record<Forged['variant'], Record<string, unknown>> = {
      none: { ...header, alg: 'none' },
      'hs-confusion': { ...header, alg: 'HS256' },
      'unknown-kid': { ...header, kid: 'not-our-key' },
      'typ-jwt': { ...header, typ: 'JWT' },
      signed: header,
    };
    const input = `${b64(JSON.stringify(headers[ref.variant]))}.${b64(claims)}`;
    if (ref.variant === 'none') return `${input}.`;
    if (ref.variant === 'hs-confusion') {
      return `${input}.${createHmac('sha256', this.publicPem).update(input).digest('base64url')}`;
    }
    const signature = sign('sha256', Buffer.from(input), { key: this.signingKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }

  private keepStale(list: string[], token: string): void {
    if (list.length < 16) list.push(token);
    else list[randomBytes(1)[0]! % list.length] = token;
  }

  /** Which of an account's known passwords logs it in (a password change may have set any). */
  private async currentPassword(account: WorldAccount): Promise<string> {
    for (const password of [...account.candidates].reverse().concat(account.password)) {
      const response = await this.main.http().post('/auth/login').send({ email: account.email, password });
      if (response.status === 200) return password;
    }
    throw new Error('fuzz world: no known password logs the account in');
  }

  /** A body-mode session, rotated once so that it has a predecessor (grace replays, then reuse). */
  private async bodySession(account: { email: string; password: string }) {
    const first = await this.main
      .http()
      .post('/auth/login')
      .send({ email: account.email, password: account.password })
      .expect(200);
    const rotated = await this.main
      .http()
      .post('/auth/refresh')
      .send({ refresh_token: first.body.refresh_token })
      .expect(200);
    return { previousRefresh: first.body.refresh_token as string, tokens: rotated.body as Tokens };
  }

  /** A cookie-mode session: the refresh token and the CSRF token as cookies. */
  private async cookieSession(account: { email: string; password: string }): Promise<WorldAccount['cookie']> {
    const browser = await this.main
      .http()
      .post('/auth/login')
      .set('X-Token-Transport', 'cookie')
      .send({ email: account.email, password: account.password })
      .expect(200);
    const cookies = setCookies(browser);
    return {
      access: browser.body.access_token as string,
      refresh: cookies.refresh_token?.value ?? '',
      csrf: cookies.csrf_token?.value ?? '',
      sessionId: browser.body.session_id as string,
    };
  }

  private async alive(accessToken: string): Promise<boolean> {
    const response = await this.main.http().get('/auth/me').set('Authorization', `Bearer ${accessToken}`);
    return response.status === 200;
  }

  private async me(accessToken: string): Promise<{ id: string }> {
    const response = await this.main.http().get('/auth/me').set('Authorization', `Bearer ${accessToken}`).expect(200);
    return response.body as { id: string };
  }

  /** A note of the account's, made with a fresh login (its live token's scope may have been narrowed). */
  private async createNote(account: { email: string; password: string }): Promise<string> {
    const { tokens } = await this.bodySession(account);
    const response = await this.main
      .http()
      .post('/notes')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .send({ title: 'fuzz', body: 'a note the fuzzer may read or delete' })
      .expect(201);
    return response.body.id as string;
  }

  private sendOnce(wire: WireRequest): Promise<WireResponse> {
    return new Promise((resolve, reject) => {
      // A raw header list gets no Host from Node: add ours unless the request brings one (`<none>`: none at all).
      const hosts = wire.headers.filter(([name]) => name.toLowerCase() === 'host');
      const headers = wire.headers
        .filter(([name, value]) => name.toLowerCase() !== 'host' || value !== '<none>')
        .flat();
      if (hosts.length === 0) headers.unshift('Host', `127.0.0.1:${this.ports[wire.target]}`);
      if (wire.chunked) headers.push('Transfer-Encoding', 'chunked');
      else if (wire.body.length > 0 || !['GET', 'HEAD'].includes(wire.method)) {
        headers.push('Content-Length', String(wire.body.length));
      }
      const request = httpRequest(
        {
          host: '127.0.0.1',
          port: this.ports[wire.target],
          method: wire.method,
          path: wire.path,
          headers,
          agent: this.agent,
          timeout: 30_000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: parseJson(text) });
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('no response within 30 s')));
      request.on('error', (error) => reject(Object.assign(error, { reused: request.reusedSocket })));
      if (wire.chunked && wire.body.length > 1) {
        request.write(wire.body.subarray(0, wire.body.length >> 1));
        request.end(wire.body.subarray(wire.body.length >> 1));
      } else {
        request.end(wire.body);
      }
    });
  }
}

/** Parts of a sent secret that must never come back: the whole, and each long random segment. */
function probesOf(text: string): string[] {
  return (
    text
      .split(/[.\s]/)
      .map((segment) => segment.replace(/^[^\w-]+|[^\w-]+$/g, ''))
      // A JWT's header and claims (base64 of `{"…`) are readable, and shared by every token of a
      // session; its signature is what is secret. UUIDs are session ids, not secrets.
      .filter(
        (segment) => segment.length >= 20 && !segment.startsWith('eyJ') && !/[0-9a-f]{8}-[0-9a-f]{4}-/i.test(segment),
      )
  );
}

/** Whether a generated password is random enough that finding it in a response means it was echoed. */
function looksSecret(text: string): boolean {
  return text.length >= 10 && new Set(text).size >= 6;
}

function formValue(value: Template, resolve: (ref: Ref) => string): string {
  if (typeof value === 'string') return value;
  if (value instanceof Secret || value instanceof Value || value instanceof Forged) return resolve(value);
  if (value instanceof Deep || value instanceof Raw || value instanceof Obj || Array.isArray(value)) {
    return writeJson(value, resolve);
  }
  return String(value);
}

/** Form encoding that also writes lone surrogates (as their invalid 3-byte UTF-8 form) instead of throwing. */
function formEncode(text: string): string {
  let out = '';
  for (const unit of text.slice(0, 20_000).split('')) {
    const code = unit.charCodeAt(0);
    if (/[A-Za-z0-9*\-._]/.test(unit)) out += unit;
    else if (code === 0x20) out += '+';
    else {
      const bytes =
        code >= 0xd800 && code <= 0xdfff
          ? [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
          : [...Buffer.from(unit, 'utf8')];
      out += bytes.map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    }
  }
  return out;
}

/** What a raw client can put in a request line: bytes 0x21–0xff; anything else percent-encoded. */
function safePath(path: string): string {
  const safe = path.replace(/[^\u0021-\u00ff]/g, (char) => encodeURIComponent(char.isWellFormed() ? char : '\ufffd'));
  return safe.startsWith('/') ? safe : `/${safe}`;
}

/** What a raw client can put in a header value: tab and bytes 0x20–0xff (UTF-8 written byte for byte). */
function safeHeader(value: string): string {
  return value.replace(/[^\t\u0020-\u007e\u0080-\u00ff]/g, (char) =>
    char.charCodeAt(0) < 0x20 || char === '\x7f'
      ? '?'
      : Buffer.from(char.isWellFormed() ? char : '\ufffd', 'utf8').toString('latin1'),
  );
}

/** The JSON of a body, or `undefined` when it is none. */
function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The cookies a response sets, by name (values decoded). */
function cookiesSet(header: string[] | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const line of header ?? []) {
    const pair = line.split(';')[0]!;
    const at = pair.indexOf('=');
    if (at > 0) cookies[pair.slice(0, at)] = decodeURIComponent(pair.slice(at + 1));
  }
  return cookies;
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
