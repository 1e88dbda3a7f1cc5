import pino, { type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from '../../config/config.js';

/** Fields that may carry a secret are censored wherever they appear in a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.token',
  '*.secret',
  '*.totp',
  '*.code',
  '*.recoveryCode',
  '*.authorization',
  '*.cookie',
];

export function loggerOptions(level: LogLevel): LoggerOptions {
  return { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
}

let fallback: Logger | null = null;

/**
 * Warnings of a process that has no configured logger (the CLI, scripts, tests before a server starts): to
 * stderr, warn level and up, with the same redaction. Created on first use.
 */
export function fallbackLogger(): Logger {
  fallback ??= pino({ ...loggerOptions('warn') }, pino.destination(2));
  return fallback;
}
