import { Type } from 'typebox';
import { operationContext } from '../../http/access-guard.js';
import { NoContent } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import {
  ApproveBody,
  CreatedTokenSchema,
  CreateTokenBody,
  DeviceStatusSchema,
  EnrolmentTokenListSchema,
  LimitsSchema,
  ListRequestsQuery,
  RegistrationBody,
  RegistryRequestListSchema,
  RegistryRequestSchema,
  RegistryStateSchema,
  RejectBody,
  RequestParams,
  SubmittedSchema,
  TokenParams,
  UnlockBody,
} from './registry.schemas.js';
import { pollSecretOf } from './registry-admission.js';

const tags = ['client registry'];
/** Registry decisions are asset management (docs/permissions.md); its limits are system configuration. */
const read = { access: { kind: 'read', scope: 'asset_management' } } as const;
const write = { access: { kind: 'write', scope: 'asset_management' } } as const;
const configure = { access: { kind: 'write', scope: 'system_config' } } as const;
/** Devices: no session, admitted by the registry's rate limit (src/http/access-guard.ts). */
const device = { access: { kind: 'registration' } } as const;
/** A device polling with its poll secret, or an administrator reading the request. */
const deviceOrStaff = {
  access: { kind: 'registration', staff: { kind: 'read', scope: 'asset_management' } },
} as const;

/** The device client registry (docs/registry.md). */
export async function registryRoutes(app: App): Promise<void> {
  const { registry, registryTokens } = app.services;

  app.get(
    '/api/v1/registry',
    {
      config: read,
      schema: {
        tags,
        summary: 'Whether devices may register now, how many requests wait, and the limits',
        response: { 200: RegistryStateSchema },
      },
    },
    () => registry.state(),
  );

  app.post(
    '/api/v1/registry/unlock',
    {
      config: write,
      schema: {
        tags,
        summary: 'Let devices register without an enrolment token for up to 60 minutes',
        body: UnlockBody,
        response: { 200: RegistryStateSchema },
      },
    },
    (request) => registry.unlock(operationContext(request), request.body.minutes),
  );

  app.post(
    '/api/v1/registry/lock',
    {
      config: write,
      schema: {
        tags,
        summary: 'End an unlock now (enrolment tokens keep working)',
        response: { 200: RegistryStateSchema },
      },
    },
    (request) => registry.lock(operationContext(request)),
  );

  app.put(
    '/api/v1/registry/limits',
    {
      config: configure,
      schema: {
        tags,
        summary: 'Change the most pending requests, their expiry and the validity of issued certificates',
        body: LimitsSchema,
        response: { 200: RegistryStateSchema },
      },
    },
    (request) => registry.setLimits(operationContext(request), request.body),
  );

  app.get(
    '/api/v1/registry/requests',
    {
      config: read,
      schema: {
        tags,
        summary: 'Registration requests, newest first, optionally of one status',
        querystring: ListRequestsQuery,
        response: { 200: RegistryRequestListSchema },
      },
    },
    (request) => registry.list(request.query),
  );

  app.post(
    '/api/v1/registry/requests',
    {
      config: device,
      schema: {
        tags,
        summary:
          'A device asks to be registered (no session; the registry must be unlocked, or send an enrolment token)',
        security: [],
        body: RegistrationBody,
        response: { 202: SubmittedSchema },
      },
    },
    async (request, reply) => {
      const submitted = await registry.submit({
        input: request.body,
        source: 'rest',
        meta: { ip: request.ip, requestId: request.id },
      });
      return reply.status(202).send(submitted);
    },
  );

  app.get(
    '/api/v1/registry/requests/:id',
    {
      // A poll may deliver the credentials, once: a HEAD would claim them and send nothing.
      exposeHeadRoute: false,
      config: deviceOrStaff,
      schema: {
        tags,
        summary:
          'With the poll secret (`Authorization: Bearer wdp_…`): the device learns its status and, once, its credentials; with a session or API key (asset_management): the request',
        params: RequestParams,
        response: { 200: Type.Union([DeviceStatusSchema, RegistryRequestSchema]) },
      },
    },
    (request) => {
      const pollSecret = pollSecretOf(request);
      // The guard admitted a poll secret without a session (no actor), and an administrator only with one.
      if (request.actor === null && pollSecret !== undefined) {
        return registry.poll(request.params.id, pollSecret, { ip: request.ip, requestId: request.id });
      }
      return registry.get(request.params.id);
    },
  );

  app.post(
    '/api/v1/registry/requests/:id/approve',
    {
      config: write,
      schema: {
        tags,
        summary:
          'Approve: creates the device user (no permissions unless access roles are given) and, with a CSR, its certificate',
        params: RequestParams,
        body: ApproveBody,
        response: { 200: RegistryRequestSchema },
      },
    },
    (request) => registry.approve(operationContext(request), request.params.id, request.body),
  );

  app.post(
    '/api/v1/registry/requests/:id/reject',
    {
      config: write,
      schema: {
        tags,
        summary: 'Reject a request; the device is told, with the reason',
        params: RequestParams,
        body: RejectBody,
        response: { 200: RegistryRequestSchema },
      },
    },
    (request) => registry.reject(operationContext(request), request.params.id, request.body),
  );

  app.get(
    '/api/v1/registry/tokens',
    {
      config: read,
      schema: {
        tags,
        summary: 'Enrolment tokens (never their secrets)',
        response: { 200: EnrolmentTokenListSchema },
      },
    },
    () => registryTokens.list(),
  );

  app.post(
    '/api/v1/registry/tokens',
    {
      config: write,
      schema: {
        tags,
        summary: 'Create an enrolment token for a batch of devices; the token is in this answer only',
        body: CreateTokenBody,
        response: { 201: CreatedTokenSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await registryTokens.create(operationContext(request), request.body)),
  );

  app.delete(
    '/api/v1/registry/tokens/:id',
    {
      config: write,
      schema: {
        tags,
        summary: 'Revoke an enrolment token: refused from the next request on',
        params: TokenParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await registryTokens.revoke(operationContext(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
}
