import type { LoggerOptions } from 'pino';
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
