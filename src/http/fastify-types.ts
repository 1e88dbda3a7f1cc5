import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Actor, Requirement, SessionStage } from '../modules/permissions/permissions.policy.js';
import type { ResolvedSession } from '../modules/sessions/sessions.service.js';
import type { Services } from '../services.js';
import type { RouteAccess } from './access-guard.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs; every route must declare it (enforced at registration and by a test). */
    access?: Requirement;
  }
  interface FastifyRequest {
    actor: Actor | null;
    stage: SessionStage | null;
    auth: ResolvedSession | null;
  }
  interface FastifyInstance {
    services: Services;
    /** Every route with the requirement it declared (filled at registration by the access guard). */
    routeAccess: readonly RouteAccess[];
  }
}

/** The Fastify instance feature routes are registered on (TypeBox-typed). */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;
