import { createHash } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import type { Response } from 'supertest';
import type TestAgent from 'supertest/lib/agent.js';

/** Body fields whose values are secrets wherever they are sent or answered. */
const SECRET_FIELDS = new Set(['password', 'currentPassword', 'newPassword', 'refresh_token', 'access_token', 'token']);
/** What a token looks like in a line: JWTs, refresh tokens of both formats, hex hashes, long base64url runs. */
const CANDIDATES = /[A-Za-z0-9_-]{16,}(?:\.[A-Za-z0-9_-]+)*|[0-9a-f]{64}/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * API.md: "No error body or log line ever contains a token, a password or a hash." Every test
 * context audits its instances: their log lines are kept, every secret a test sends or receives
 * through `http()` is noted (passwords, access and refresh tokens, their parts and hashes), and
 * `verify()` fails the file when a line holds any of them, or an argon2 hash.
 */
export class LogAudit {
  readonly lines: string[] = [];
  private readonly tokens = new Set<string>();
  private readonly passwords = new Set<string>();

  /** A logger for one instance that keeps its lines here (and hands them on to `inner`). */
  logger(inner?: LoggerService | false): LoggerService {
    const keep = (level: string, parts: unknown[]) => {
      this.lines.push(
        `${level}: ${parts.map((part) => (part instanceof Error ? `${part.message}\n${part.stack}` : typeof part === 'string' ? part : JSON.stringify(part))).join(' ')}`,
      );
    };
    const forward = (level: keyof LoggerService, parts: unknown[]) => {
      keep(level, parts);
      if (inner) (inner[level] as ((...args: unknown[]) => void) | undefined)?.apply(inner, parts);
    };
    return {
      log: (...parts: unknown[]) => forward('log', parts),
      error: (...parts: unknown[]) => forward('error', parts),
      warn: (...parts: unknown[]) => forward('warn', parts),
      debug: (...parts: unknown[]) => forward('debug', parts),
      verbose: (...parts: unknown[]) => forward('verbose', parts),
      fatal: (...parts: unknown[]) => forward('fatal', parts),
    };
  }

  /** Wraps a supertest agent so that what goes out and comes back through it is noted. */
  watch(agent: TestAgent): TestAgent {
    return new Proxy(agent, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result: unknown = value.apply(target, args);
          if (result && typeof (result as { on?: unknown }).on === 'function') this.watchTest(result);
          return result;
        };
      },
    });
  }

  /** Notes a secret used outside `http()` (a raw socket, fetch). */
  note(value: unknown, field = 'token'): void {
    if (typeof value !== 'string' || value === '') return;
    if (field.toLowerCase().includes('password')) {
      if (value.length >= 8) this.passwords.add(value);
      return;
    }
    if (value.length < 16) return;
    this.tokens.add(value);
    this.tokens.add(createHash('sha256').update(value).digest('hex'));
    // The parts of a token are secrets too: a refresh token's secret, a JWT's signature.
    // (Not a session id inside a refresh token: ids are no secret, and logs may name them.)
    for (const part of value.split('.')) if (part.length >= 22 && !UUID.test(part)) this.tokens.add(part);
  }

  /** Throws when a kept line holds a noted secret or an argon2 hash; returns how many lines were read. */
  verify(): number {
    for (const line of this.lines) {
      const leak =
        (/\$argon2(id|i|d)\$/.test(line) && 'an argon2 hash') ||
        ([...line.matchAll(CANDIDATES)].some((match) => this.holdsToken(match[0])) && 'a token') ||
        ([...this.passwords].some((password) => line.includes(password)) && 'a password');
      if (leak) throw new Error(`a log line holds ${leak}: ${redact(line)}`);
    }
    return this.lines.length;
  }

  private holdsToken(candidate: string): boolean {
    if (this.tokens.has(candidate)) return true;
    return candidate.split('.').some((part) => this.tokens.has(part));
  }

  private watchTest(test: unknown): void {
    const request = test as {
      send?: (body: unknown) => unknown;
      on(event: 'response', listener: (response: Response) => void): void;
    };
    const send = request.send;
    if (typeof send === 'function') {
      request.send = (body: unknown) => {
        this.noteBody(body);
        return send.call(test, body);
      };
    }
    request.on('response', (response) => {
      this.noteBody(response.body);
      const cookies = response.headers['set-cookie'] as string[] | string | undefined;
      for (const cookie of cookies === undefined ? [] : Array.isArray(cookies) ? cookies : [cookies]) {
        const [pair = ''] = cookie.split(';');
        this.note(pair.slice(pair.indexOf('=') + 1));
      }
    });
  }

  private noteBody(body: unknown): void {
    if (typeof body === 'string') {
      for (const pair of body.split('&')) {
        const [name, value] = pair.split('=');
        if (name && value && SECRET_FIELDS.has(name)) this.note(decodeURIComponentSafe(value), name);
      }
      return;
    }
    if (typeof body !== 'object' || body === null) return;
    for (const [name, value] of Object.entries(body)) if (SECRET_FIELDS.has(name)) this.note(value, name);
  }
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function redact(line: string): string {
  return line.replace(CANDIDATES, (match) => `${match.slice(0, 6)}…`).slice(0, 300);
}
