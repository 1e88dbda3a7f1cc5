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

export function problemFor(error: AppError, request: FastifyRequest): Problem {
  return {
    ...error.extensions,
    type: `https://warden.dev/problems/${error.code}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
    instance: request.url.split('?')[0] ?? request.url,
    requestId: request.id,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) void reply.header(name, value);
  return reply.status(error.status).type('application/problem+json').send(problemFor(error, request));
}
