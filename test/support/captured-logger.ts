import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line, at every level, so a test can read what would be logged. */
export class CapturedLogger implements LoggerService {
  readonly lines: string[] = [];

  log(...parts: unknown[]): void {
    this.keep('log', parts);
  }
  error(...parts: unknown[]): void {
    this.keep('error', parts);
  }
  warn(...parts: unknown[]): void {
    this.keep('warn', parts);
  }
  debug(...parts: unknown[]): void {
    this.keep('debug', parts);
  }
  verbose(...parts: unknown[]): void {
    this.keep('verbose', parts);
  }
  fatal(...parts: unknown[]): void {
    this.keep('fatal', parts);
  }

  private keep(level: string, parts: unknown[]): void {
    const text = parts.map((part) =>
      part instanceof Error ? `${part.message}\n${part.stack}` : typeof part === 'string' ? part : JSON.stringify(part),
    );
    this.lines.push(`${level}: ${text.join(' ')}`);
  }
}
