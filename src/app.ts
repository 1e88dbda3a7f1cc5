import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { LoggerOptions } from 'pino';
import { coreError } from './core/errors/core-errors.js';
import { installAccessGuard } from './http/access-guard.js';
import { ProblemSchema } from './http/common-schemas.js';
import { clientErrorProblem, frameworkErrorProblem, installErrorHandler } from './http/error-handler.js';
import type { App } from './http/fastify-types.js';
import { healthRoutes } from './http/health.routes.js';
import { sendProblem } from './http/problem.js';
import { MachineQuietLogController } from './http/request-logging.js';
import { refuseNonFiniteNumbers } from './http/validator.js';
import { accessRoutes } from './modules/access/access.routes.js';
import { accessRolesRoutes } from './modules/access-roles/access-roles.routes.js';
import { apiKeysRoutes } from './modules/api-keys/api-keys.routes.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { brokersRoutes } from './modules/brokers/brokers.routes.js';
import { BROKER_CONFIG_COMPONENTS } from './modules/brokers/brokers.schemas.js';
import { hooksRoutes } from './modules/brokers/hooks.routes.js';
import { certificatesRoutes } from './modules/certificates/certificates.routes.js';
import { forwardAuthRoutes } from './modules/forward-auth/forward-auth.routes.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { scrapeTokensRoutes } from './modules/metrics/scrape-tokens.routes.js';
import { mfaRoutes } from './modules/mfa/mfa.routes.js';
import { mqttClientsRoutes } from './modules/mqtt/mqtt-clients.routes.js';
import { mqttTokensRoutes } from './modules/mqtt-tokens/mqtt-tokens.routes.js';
import type { Requirement } from './modules/permissions/permissions.policy.js';
import { registryRoutes } from './modules/registry/registry.routes.js';
import { sessionsRoutes } from './modules/sessions/sessions.routes.js';
import { settingsRoutes } from './modules/settings/settings.routes.js';
import { ssoLoginRoutes } from './modules/sso/sso-login.routes.js';
import { ssoProvidersRoutes } from './modules/sso/sso-providers.routes.js';
import { usersRoutes } from './modules/users/users.routes.js';
import type { Services } from './services.js';

export interface BuildAppOptions {
  services: Services;
  /** pino options, an existing logger, or false (tests). */
  logger?: LoggerOptions | FastifyBaseLogger | false;
  trustProxy?: boolean;
  /** Built console (web/dist); omitted or missing = API only. */
  webRoot?: string;
  /** `WARDEN_METRICS_ALLOW_FROM`: networks that may scrape `/metrics` without a token (default: none). */
  metricsAllowFrom?: readonly string[];
}

/** Feature route plugins, in registration order. A new feature adds one line here. */
const FEATURE_ROUTES: ReadonlyArray<(app: App) => Promise<void>> = [
  healthRoutes,
  authRoutes,
  usersRoutes,
  auditRoutes,
  settingsRoutes,
  sessionsRoutes,
  mfaRoutes,
  accessRolesRoutes,
  accessRoutes,
  mqttClientsRoutes,
  mqttTokensRoutes,
  brokersRoutes,
  hooksRoutes,
  apiKeysRoutes,
  forwardAuthRoutes,
  metricsRoutes,
  scrapeTokensRoutes,
  ssoProvidersRoutes,
  registryRoutes,
  certificatesRoutes,
  ssoLoginRoutes,
];

/** The methods Warden's routes use; a path that has some of them answers the others with 405. */
const ROUTED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** The methods some route (plain or parametric) answers for this path, for the `Allow` header of a 405. */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  return ROUTED_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
}

/**
 * Every API route answers its failures as problems; the routes declare their successes, this declares the
 * rest (`4xx`/`5xx` → Problem) so the OpenAPI document and the console's types know the problem shape. Broker
 * hooks answer in their broker's own format and keep their declarations.
 */
function declareProblemResponses(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const access = (route.config as { access?: Requirement } | undefined)?.access;
    if (!route.url.startsWith('/api/v1/') || access?.kind === 'hook') return;
    const schema = (route.schema ?? {}) as { response?: Record<string, unknown> };
    schema.response = { '4xx': { $ref: 'Problem#' }, '5xx': { $ref: 'Problem#' }, ...schema.response };
    route.schema = schema;
  });
}

/** Builds the HTTP app. Never listens: `main.ts` does, tests use `app.inject()`. */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const loggerOption = options.logger ?? false;
  const isLoggerInstance = typeof loggerOption === 'object' && 'child' in loggerOption;
  const app = Fastify({
    ...(isLoggerInstance
      ? { loggerInstance: loggerOption as FastifyBaseLogger }
      : { logger: loggerOption as LoggerOptions | false }),
    genReqId: () => randomUUID(),
    // Broker hooks and scrapes log their requests at debug: the metrics count them.
    logController: new MachineQuietLogController(),
    trustProxy: options.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: true,
      },
      onCreate: refuseNonFiniteNumbers,
    },
    // Errors Fastify and Node raise before a route is found are answered as problems too.
    frameworkErrors: frameworkErrorProblem,
    clientErrorHandler: clientErrorProblem,
    // Requests that arrive while closing get a 503 problem from the hook below, not Fastify's own JSON.
    return503OnClosing: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('services', options.services);
  // Before any plugin, so that the routes plugins add inherit the problem answers.
  installErrorHandler(app);
  // Only JSON bodies (Fastify also parses text/plain, which then fails the schema as "body must be object"
  // instead of answering 415); the hook routes add form-encoded bodies for the brokers that send them.
  app.removeContentTypeParser('text/plain');
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async () => {
    if (closing) throw coreError('server.shutting_down', undefined, { headers: { connection: 'close' } });
  });
  await app.register(cookie);
  app.addSchema(ProblemSchema);
  declareProblemResponses(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Warden API',
        version: '1',
        description: 'User & access management for MQTT and industrial-IoT platforms.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'warden_session' },
          // An API key (docs/api-keys.md): `Authorization: Bearer wdn_…`, never together with the cookie.
          bearer: { type: 'http', scheme: 'bearer', description: 'API key `wdn_…` (docs/api-keys.md)' },
          basic: { type: 'http', scheme: 'basic' },
        },
        schemas: BROKER_CONFIG_COMPONENTS,
      },
      security: [{ session: [] }, { bearer: [] }],
    },
    // Shared schemas keep their own names (`Problem`) in the document instead of `def-0`.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) =>
        typeof json.$id === 'string' ? json.$id : `def-${index}`,
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  installAccessGuard(app, { metricsAllowFrom: options.metricsAllowFrom ?? [] });

  for (const routes of FEATURE_ROUTES) await app.register(routes);

  app.get('/api/openapi.json', { config: { access: { kind: 'public' } }, schema: { hide: true } }, () =>
    app.swagger(),
  );

  const webRoot =
    options.webRoot && fs.existsSync(path.join(options.webRoot, 'index.html')) ? options.webRoot : null;
  if (webRoot) await app.register(fastifyStatic, { root: webRoot, wildcard: false });

  app.setNotFoundHandler((request, reply) => {
    // Deep links into the console fall back to its index; everything else is a 404 problem.
    const isPage =
      request.method === 'GET' &&
      !request.url.startsWith('/api/') &&
      request.headers.accept?.includes('text/html');
    if (webRoot && isPage) return reply.type('text/html').sendFile('index.html');
    const path = request.url.split('?')[0] ?? request.url;
    const allowed = allowedMethods(app, path);
    // A route for this very method that answered "not found" itself (a file the static plugin lacks) is a 404.
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return sendProblem(
        reply,
        request,
        coreError('request.method_not_allowed', `${request.method} is not allowed for ${path}`, {
          headers: { allow: allowed.join(', ') },
        }),
      );
    }
    return sendProblem(
      reply,
      request,
      coreError('request.not_found', `No route for ${request.method} ${path}`),
    );
  });

  return app;
}
