import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError, ProblemItem } from '../core/errors/app-error.js';

/** RFC 9457 problem details with Warden's stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  requestId: string;
  errors?: readonly ProblemItem[];
  /** Extension members, e.g. `denial` on a 403 (what was missing). */
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The problem document for an error. `instance` identifies this occurrence: the request path, or a `urn:uuid:`
 * of the request id when the request could not be read far enough to have a path.
 */
export function problemOf(error: AppError, occurrence: { instance: string; requestId: string }): Problem {
  return {
    ...error.extensions,
    type: `https://warden.dev/problems/${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    instance: occurrence.instance,
    requestId: occurrence.requestId,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

export function problemFor(error: AppError, request: FastifyRequest): Problem {
  return problemOf(error, { instance: request.url.split('?')[0] ?? request.url, requestId: request.id });
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
  return reply.status(error.status).type(PROBLEM_CONTENT_TYPE).send(problemFor(error, request));
}

/**
 * A complete HTTP/1.1 response carrying the problem, for answers written straight to a socket (when Node's
 * parser rejects a request there is no reply object). It always closes the connection.
 */
export function rawProblemResponse(
  error: AppError,
  occurrence: { instance: string; requestId: string },
): string {
  const body = JSON.stringify(problemOf(error, occurrence));
  const headers = {
    ...error.headers,
    'Content-Type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n${head.join('')}\r\n${body}`;
}
