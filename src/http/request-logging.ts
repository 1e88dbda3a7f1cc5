import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Requirement } from '../modules/permissions/permissions.policy.js';

/** Routes machines call at a steady rate; the metrics count them (docs/metrics.md#request-logging). */
function isMachineRoute(request: FastifyRequest): boolean {
  const kind = (request.routeOptions.config as { access?: Requirement } | undefined)?.access?.kind;
  return kind === 'hook' || kind === 'scrape';
}

/**
 * Fastify's request log lines, with broker hooks and `/metrics` at `debug` instead of `info`: a fleet's hooks
 * would otherwise write two lines per MQTT decision. Failures (`request errored`) keep their level everywhere.
 */
export class MachineQuietLogController extends LogController {
  override incomingRequest(
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (!isMachineRoute(request)) super.incomingRequest(request, reply, metadata);
    else if (!this.isLogDisabled(request)) request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata?: Record<string, unknown>,
  ): void {
    if (error || !isMachineRoute(request)) super.requestCompleted(error, request, reply, metadata);
    else if (!this.isLogDisabled(request))
      reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
