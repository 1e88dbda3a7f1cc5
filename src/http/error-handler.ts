import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ProblemItem } from '../core/errors/app-error.js';
import { coreError } from '../core/errors/core-errors.js';
import { missingPropertyItem, unknownPropertyItem } from '../core/validation.js';
import { rawProblemResponse, sendProblem } from './problem.js';

type CoreCode = Parameters<typeof coreError>[0];

/**
 * Codes for the client errors Fastify and the plugins we use (static files, API docs, cookies) raise by HTTP
 * status, so that each keeps its status. Any other 4xx becomes `request.invalid`, any 5xx `server.internal`.
 */
const CODE_BY_STATUS: Readonly<Record<number, CoreCode>> = {
  400: 'request.invalid',
  403: 'request.forbidden_path',
  404: 'request.not_found',
  405: 'request.method_not_allowed',
  408: 'request.timeout',
  412: 'request.precondition_failed',
  413: 'request.too_large',
  414: 'request.uri_too_long',
  415: 'request.unsupported_media_type',
  416: 'request.range_not_satisfiable',
  431: 'request.headers_too_large',
};

/** One schema-validation error of Ajv, as Fastify hands it over. */
interface ValidationIssue {
  readonly keyword?: string;
  readonly instancePath?: string;
  readonly params?: Record<string, unknown>;
  readonly message?: string;
}

/**
 * Ajv's errors as problem items whose `pointer` is a JSON Pointer into the request (`/body/role`,
 * `/querystring/page`, `/params/username`). Ajv reports an unknown or missing property at the object that
 * has (or lacks) it; the item points at the property itself and names it.
 */
function validationItems(context: string, issues: readonly ValidationIssue[]): ProblemItem[] {
  return issues.map((issue) => {
    const at = `/${context}${issue.instancePath ?? ''}`;
    const property = issue.params?.additionalProperty ?? issue.params?.missingProperty;
    if (issue.keyword === 'additionalProperties' && typeof property === 'string') {
      return unknownPropertyItem(at, property);
    }
    if (issue.keyword === 'required' && typeof property === 'string')
      return missingPropertyItem(at, property);
    return { pointer: at, message: issue.message ?? 'is invalid' };
  });
}

/** Maps Fastify's and the plugins' own errors (validation, parsing, size, routing, files) to catalogue codes. */
function fromFastifyError(error: FastifyError): AppError | null {
  if (error.validation) {
    const errors = validationItems(error.validationContext ?? 'body', error.validation);
    return coreError('request.invalid', errors.map((item) => `${item.pointer} ${item.message}`).join('; '), {
      errors,
    });
  }
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return coreError('request.invalid', 'The URL is not valid (malformed percent-encoding)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return coreError('request.uri_too_long');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return coreError('request.too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return coreError(
        'request.unsupported_media_type',
        'This route does not accept a body of this content type; send application/json',
      );
  }
  const status = error.statusCode ?? (error as { status?: number }).status;
  if (status && status >= 400 && status < 500) {
    return coreError(CODE_BY_STATUS[status] ?? 'request.invalid', error.message, {
      headers: headersOf(error),
    });
  }
  return null;
}

/**
 * The headers an error asks for (a 416 of the static-file plugin carries `Content-Range`). Fastify applies
 * them only in its own default handler, so ours passes them on.
 */
function headersOf(error: FastifyError): Record<string, string> {
  const headers = (error as { headers?: unknown }).headers;
  if (!headers || typeof headers !== 'object') return {};
  return Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) =>
      typeof value === 'string' || typeof value === 'number' ? [[name, String(value)]] : [],
    ),
  );
}

/** Any error as the AppError a client sees; the unexpected ones are logged and carry only the request id. */
function appErrorFor(error: FastifyError, request: FastifyRequest): AppError {
  const known = error instanceof AppError ? error : fromFastifyError(error);
  if (known) {
    if (known.status >= 500) request.log.warn({ code: known.code }, known.message);
    return known;
  }
  request.log.error({ err: error }, 'unhandled error');
  return coreError('server.internal', `Unexpected error (request ${request.id})`);
}

/**
 * One error handler: AppErrors and client errors become problem+json with their code; anything else is a
 * generic 500 carrying only the request id, with the details in the server log. Installed before any plugin,
 * so that the routes plugins add (API docs, static files) answer their errors the same way.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendProblem(reply, request, appErrorFor(error, request)),
  );
}

/**
 * Fastify's `frameworkErrors` option: the errors it raises before routing (a URL with malformed
 * percent-encoding, a path parameter over `maxParamLength`) would otherwise be answered in Fastify's own JSON
 * shape, bypassing the error handler.
 */
export function frameworkErrorProblem(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  void sendProblem(reply, request, appErrorFor(error, request));
}

/** A connection-level error of Node's HTTP server (by its code) as the problem a client gets. */
function clientErrorFor(code: string | undefined): AppError {
  if (code === 'HPE_HEADER_OVERFLOW') return coreError('request.headers_too_large');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return coreError('request.timeout');
  return coreError('request.invalid', 'The request could not be read as HTTP');
}

/** How long a refused connection may keep sending before it is cut off. */
const REFUSED_CONNECTION_LINGER_MS = 5_000;

/**
 * Fastify's `clientErrorHandler` option, for requests Node's HTTP parser rejects before there is a request
 * object (a URL plus headers over 16 KB, a malformed request line, a request that arrives too slowly). The
 * answer is a problem like any other, says `Connection: close`, and the socket is ended gracefully: Fastify's
 * default omits the header and destroys the socket at once, so a keep-alive client reuses a dead connection,
 * and unread request bytes make the kernel send a reset that can destroy the answer before it is read.
 */
export function clientErrorProblem(
  this: FastifyInstance,
  error: NodeJS.ErrnoException,
  socket: Socket,
): void {
  // The peer is gone (or we already answered): nothing to say.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const requestId = randomUUID();
  const appError = clientErrorFor(error.code);
  this.log.debug({ err: error, requestId, code: appError.code }, 'client error');
  // Like Node's own default: never write into a response that has already started on this connection.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(rawProblemResponse(appError, { instance: `urn:uuid:${requestId}`, requestId }));
  // Keep reading (and discarding) what the client still sends until it closes its side, so the connection
  // ends with FIN instead of a reset; a client that never stops is cut off after a while.
  socket.resume();
  socket.setTimeout(REFUSED_CONNECTION_LINGER_MS, () => socket.destroy());
}
