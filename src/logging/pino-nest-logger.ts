import type { LoggerService } from '@nestjs/common';
import type { FastifyBaseLogger } from 'fastify';
import type { AppConfig } from '../config/configuration';

/**
 * Options for the one pino logger of the process: Fastify's own, which also logs requests.
 * Request logs carry method, URL, status and timing; Fastify never logs bodies or headers, and
 * values travel only in bodies. The redact paths are a second line of defence for objects that
 * someone might log one day.
 */
export function pinoOptions(config: Pick<AppConfig, 'logLevel'>) {
  return {
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', '*.value', '*.token', '*.secrets', 'err.config'], censor: '[REDACTED]' },
  };
}

/**
 * Nest's logger interface over Fastify's pino instance, so framework messages and request logs
 * share one JSON stream. (nestjs-pino did this through an Express-style middleware per request,
 * which showed in a write's profile under load: docs/BENCHMARKS.md, Figures behind design choices.)
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: FastifyBaseLogger) {}

  log(message: unknown, context?: string): void {
    this.write('info', message, context);
  }
  error(message: unknown, stackOrContext?: string, context?: string): void {
    this.write('error', message, context ?? stackOrContext);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, context?: string): void {
    if (typeof message === 'object' && message !== null) this.pino[level]({ context, ...message });
    else this.pino[level]({ context }, String(message));
  }
}
