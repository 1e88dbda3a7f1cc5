import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { coreError } from '../../core/errors/core-errors.js';
import type { App } from '../../http/fastify-types.js';
import type { HookKind } from '../../integrations/broker-integration.js';
import {
  EmqxAuthnBody,
  EmqxAuthnReply,
  EmqxAuthzBody,
  EmqxAuthzReply,
} from '../../integrations/emqx/emqx-hooks.js';
import type { EmqxIntegration } from '../../integrations/emqx/emqx-integration.js';
import {
  GO_AUTH_RESPONSE_MODES,
  GoAuthAclBody,
  type GoAuthAnswer,
  type GoAuthIntegration,
  type GoAuthResponseMode,
  GoAuthSuperuserBody,
  GoAuthUserBody,
  goAuthReply,
} from '../../integrations/go-auth/go-auth-integration.js';
import {
  VERNEMQ_HOOKS,
  VernemqHookBody,
  type VernemqIntegration,
} from '../../integrations/vernemq/vernemq-integration.js';
import type { DecisionAction, DecisionResult } from '../mqtt/decision-counts.js';
import type { Requirement } from '../permissions/permissions.policy.js';
import {
  emqxAuthzAction,
  emqxResult,
  goAuthAclAction,
  goAuthResult,
  vernemqAction,
  vernemqResult,
} from './hook-decisions.js';

const tags = ['broker hooks'];
const hook = (broker: HookKind) => ({ access: { kind: 'hook', broker } }) as const;

type IntegrationOf = { emqx: EmqxIntegration; 'go-auth': GoAuthIntegration; vernemq: VernemqIntegration };

/** The integration the access guard admitted this request for, typed by its kind. */
function admitted<K extends HookKind>(request: FastifyRequest, kind: K): IntegrationOf[K] {
  const integration = request.hookIntegration;
  if (integration?.kind !== kind) throw new Error(`hook for ${kind} was not admitted by the access guard`);
  integration.countRequest();
  return integration as IntegrationOf[K];
}

const GoAuthQuery = Type.Object(
  {
    responseMode: Type.Optional(
      Type.Enum(GO_AUTH_RESPONSE_MODES, {
        type: 'string',
        description: "overrides the integration's response mode",
      }),
    ),
  },
  { additionalProperties: false },
);
const VernemqParams = Type.Object({ hook: Type.Enum(VERNEMQ_HOOKS, { type: 'string' }) });

/**
 * The endpoints brokers call (docs/broker-protocols.md: EMQX, go-auth, VerneMQ). The access guard admits each
 * request by the hook credential or source address of a running integration of the route's kind
 * (src/modules/brokers/hook-gate.ts) before the body is parsed; bodies may be JSON or form-encoded (go-auth
 * `params_mode form`, EMQX form templates).
 */
export async function hooksRoutes(app: App): Promise<void> {
  const { mqttDecisions, metrics } = app.services;
  /** Counts the decision a hook answered (docs/metrics.md) and passes the answer on, synchronous if it was. */
  function counted<R>(
    kind: HookKind,
    action: DecisionAction | null,
    result: (reply: R) => DecisionResult,
    answer: R | Promise<R>,
  ): R | Promise<R> {
    const count = (reply: R): R => {
      if (action !== null) mqttDecisions.count(kind, action, result(reply));
      return reply;
    };
    return answer instanceof Promise ? answer.then(count) : count(answer);
  }
  // Every answer of these routes, refusals by the access guard included: requests by status and latency.
  app.addHook('onResponse', async (request, reply) => {
    const access = (request.routeOptions.config as { access?: Requirement } | undefined)?.access;
    if (access?.kind === 'hook') metrics.hookAnswered(access.broker, reply.statusCode, reply.elapsedTime);
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.post(
    '/api/v1/hooks/emqx/authn',
    {
      config: hook('emqx'),
      schema: {
        tags,
        summary: 'EMQX 5 HTTP authentication: allow / deny / ignore, with an optional acl',
        body: EmqxAuthnBody,
        response: { 200: EmqxAuthnReply },
      },
    },
    (request) => counted('emqx', 'connect', emqxResult, admitted(request, 'emqx').authenticate(request.body)),
  );

  app.post(
    '/api/v1/hooks/emqx/authz',
    {
      config: hook('emqx'),
      schema: {
        tags,
        summary: 'EMQX 5 HTTP authorization of one publish or subscribe',
        body: EmqxAuthzBody,
        response: { 200: EmqxAuthzReply },
      },
    },
    (request) =>
      counted(
        'emqx',
        emqxAuthzAction(request.body),
        emqxResult,
        admitted(request, 'emqx').authorize(request.body),
      ),
  );

  const goAuth = async (
    request: FastifyRequest,
    mode: GoAuthResponseMode | undefined,
    reply: FastifyReply,
    action: DecisionAction | null,
    answer: (integration: GoAuthIntegration) => GoAuthAnswer | Promise<GoAuthAnswer>,
  ): Promise<FastifyReply> => {
    const integration = admitted(request, 'go-auth');
    const decided = await counted('go-auth', action, goAuthResult, answer(integration));
    const result = goAuthReply(decided, mode ?? integration.responseMode);
    return reply.status(result.status).type(result.contentType).send(result.body);
  };

  app.post(
    '/api/v1/hooks/go-auth/user',
    {
      config: hook('go-auth'),
      schema: {
        tags,
        summary: 'mosquitto-go-auth: check a password',
        body: GoAuthUserBody,
        querystring: GoAuthQuery,
      },
    },
    (request, reply) =>
      goAuth(request, request.query.responseMode, reply, 'connect', (integration) =>
        integration.user(request.body),
      ),
  );

  app.post(
    '/api/v1/hooks/go-auth/superuser',
    {
      config: hook('go-auth'),
      schema: {
        tags,
        summary: 'mosquitto-go-auth: superuser check (always refused: Warden has no MQTT superusers)',
        body: GoAuthSuperuserBody,
        querystring: GoAuthQuery,
      },
    },
    (request, reply) =>
      goAuth(request, request.query.responseMode, reply, null, (integration) => integration.superuser()),
  );

  app.post(
    '/api/v1/hooks/go-auth/acl',
    {
      config: hook('go-auth'),
      schema: {
        tags,
        summary: 'mosquitto-go-auth: acc 1 = receive, 2 = publish, 4 = subscribe',
        body: GoAuthAclBody,
        querystring: GoAuthQuery,
      },
    },
    (request, reply) =>
      goAuth(request, request.query.responseMode, reply, goAuthAclAction(request.body.acc), (integration) =>
        integration.acl(request.body),
      ),
  );

  app.post(
    '/api/v1/hooks/vernemq/:hook',
    {
      config: hook('vernemq'),
      schema: {
        tags,
        summary: 'VerneMQ webhooks: auth_on_register, auth_on_publish, auth_on_subscribe (and _m5)',
        params: VernemqParams,
        body: VernemqHookBody,
      },
    },
    (request) => {
      const header = request.headers['vernemq-hook'];
      if (typeof header === 'string' && header !== request.params.hook) {
        throw coreError(
          'request.invalid',
          `vernemq-hook header ${header} does not match the URL's ${request.params.hook}`,
        );
      }
      return counted(
        'vernemq',
        vernemqAction(request.params.hook),
        vernemqResult,
        admitted(request, 'vernemq').answer(request.params.hook, request.body),
      );
    },
  );
}
