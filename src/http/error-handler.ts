import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError } from '../core/errors/app-error.js';
import { coreError } from '../core/errors/core-errors.js';
import { sendProblem } from './problem.js';

/** Maps Fastify's own client errors (validation, parsing, size) to catalogue codes. */
function fromFastifyError(error: FastifyError): AppError | null {
  if (error.validation) {
    return coreError('request.invalid', error.message, {
      errors: error.validation.map((v) => ({
        pointer: `${error.validationContext ?? 'body'}${v.instancePath || ''}`,
        message: v.message ?? 'invalid',
      })),
    });
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return coreError('request.too_large');
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return coreError('request.unsupported_media_type');
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return coreError('request.invalid', error.message);
  }
  return null;
}

/**
 * One error handler: AppErrors and client errors become problem+json with their code; anything else is a
 * generic 500 carrying only the request id, with the details in the server log.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = error instanceof AppError ? error : fromFastifyError(error);
    if (known) {
      if (known.status >= 500) request.log.warn({ code: known.code }, known.message);
      return sendProblem(reply, request, known);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      reply,
      request,
      coreError('server.internal', `Unexpected error (request ${request.id})`),
    );
  });
}
