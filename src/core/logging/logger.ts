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

/**
 * Query parameters whose values are credentials: an OpenID Connect callback's authorization `code` and `state`
 * (docs/sso.md), and tokens that some clients put in links.
 */
const SECRET_QUERY_PARAMETERS = new Set([
  'code',
  'state',
  'token',
  'secret',
  'password',
  'access_token',
  'id_token',
  'id_token_hint',
]);

/** `url` with the values of credential-carrying query parameters replaced, for log lines. */
export function redactedUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const params = new URLSearchParams(url.slice(start + 1));
  let redacted = false;
  for (const name of new Set(params.keys())) {
    if (!SECRET_QUERY_PARAMETERS.has(name.toLowerCase())) continue;
    params.set(name, 'redacted');
    redacted = true;
  }
  return redacted ? `${url.slice(0, start)}?${params}` : url;
}

/** The request as a log line shows it (Fastify's own fields), its URL without credentials. */
function requestForLog(request: { method?: string; url?: string; host?: string; ip?: string }) {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : redactedUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
  };
}

export function loggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { req: requestForLog },
  };
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
