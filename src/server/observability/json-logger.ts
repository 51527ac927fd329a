import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/** What Nest hands `printAsJson`. */
interface JsonOptions {
  context: string;
  logLevel: LogLevel;
  writeStreamType?: 'stdout' | 'stderr';
  errorStack?: unknown;
  params?: Record<string, unknown>;
  error?: Error;
}

/**
 * Nest's JSON logger (`LOG_FORMAT=json`), with the lines of one event-loop turn written in one
 * go: standard output to a file or a pipe is synchronous on Linux, and one write per request line
 * would cost a system call each under load. Errors are written at once, and whatever is buffered
 * when the process exits is written then.
 *
 * @example NestFactory.create(AppModule, { logger: new JsonLogger() })
 */
export class JsonLogger extends ConsoleLogger {
  private readonly buffers = { stdout: [] as string[], stderr: [] as string[] };
  private scheduled = false;

  constructor() {
    super({ json: true });
    process.once('exit', () => this.flush());
  }

  protected override printAsJson(message: unknown, options: JsonOptions): void {
    const stream = options.writeStreamType ?? 'stdout';
    this.buffers[stream].push(`${JSON.stringify(this.getJsonLogObject(message, options))}\n`);
    if (options.logLevel === 'error' || options.logLevel === 'fatal') this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is buffered. */
  flush(): void {
    this.scheduled = false;
    for (const stream of ['stdout', 'stderr'] as const) {
      const lines = this.buffers[stream];
      if (lines.length === 0) continue;
      this.buffers[stream] = [];
      process[stream].write(lines.join(''));
    }
  }
}
