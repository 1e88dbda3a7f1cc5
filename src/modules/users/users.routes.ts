import { toIso } from '../../core/clock.js';
import { operationContext } from '../../http/access-guard.js';
import { NoContent, UsernameParams } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import {
  CreatedUserSchema,
  CreateUserBody,
  ListUsersQuery,
  RotatedSecretSchema,
  RotateSecretBody,
  SetPasswordBody,
  UpdatedUserSchema,
  UpdateUserBody,
  UserListSchema,
  UserSchema,
} from './users.schemas.js';

const tags = ['users'];
const read = { access: { kind: 'read', scope: 'user_management' } } as const;
const write = { access: { kind: 'write', scope: 'user_management' } } as const;

export async function usersRoutes(app: App): Promise<void> {
  const { users } = app.services;

  app.get(
    '/api/v1/users',
    {
      config: read,
      schema: { tags, summary: 'List users', querystring: ListUsersQuery, response: { 200: UserListSchema } },
    },
    (request) => users.list(request.query),
  );

  app.post(
    '/api/v1/users',
    {
      config: write,
      schema: {
        tags,
        summary:
          'Create a user (without a password: Warden generates one and answers it once; an SSO user has none)',
        body: CreateUserBody,
        response: { 201: CreatedUserSchema },
      },
    },
    async (request, reply) => {
      const ctx = operationContext(request);
      const { password, ...profile } = request.body;
      if (profile.authMethod === 'sso' && password === undefined) {
        return reply.status(201).send(await users.createSso(ctx, { ...profile, authMethod: 'sso' }));
      }
      if (password !== undefined) {
        return reply.status(201).send(await users.create(ctx, { ...profile, password }));
      }
      const created = await users.createGenerated(ctx, profile);
      return reply.status(201).send({ ...created.user, generatedPassword: created.password });
    },
  );

  app.get(
    '/api/v1/users/:username',
    {
      config: read,
      schema: { tags, summary: 'Get a user', params: UsernameParams, response: { 200: UserSchema } },
    },
    (request) => users.get(request.params.username),
  );

  app.patch(
    '/api/v1/users/:username',
    {
      config: write,
      schema: {
        tags,
        summary: 'Update a user (switching sso → local answers a one-time password once)',
        params: UsernameParams,
        body: UpdateUserBody,
        response: { 200: UpdatedUserSchema },
      },
    },
    (request) => users.update(operationContext(request), request.params.username, request.body),
  );

  app.delete(
    '/api/v1/users/:username',
    {
      config: write,
      schema: { tags, summary: 'Delete a user', params: UsernameParams, response: { 204: NoContent } },
    },
    async (request, reply) => {
      await users.remove(operationContext(request), request.params.username);
      return reply.status(204).send(null);
    },
  );

  app.put(
    '/api/v1/users/:username/password',
    {
      config: write,
      schema: {
        tags,
        summary: "Reset a user's password (admin; ends the user's sessions)",
        params: UsernameParams,
        body: SetPasswordBody,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { password, mustChange } = request.body;
      await users.setPassword(operationContext(request), request.params.username, password, {
        ...(mustChange === undefined ? {} : { mustChange }),
      });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/users/:username/secret',
    {
      // Who may reset a user's password may rotate its secret: the same scope, and canActOn in the service.
      config: write,
      schema: {
        tags,
        summary:
          "Rotate a device's or service's secret: a new generated one, answered once; the previous one optionally stays valid for a grace period",
        params: UsernameParams,
        body: RotateSecretBody,
        response: { 200: RotatedSecretSchema },
      },
    },
    async (request) => {
      const rotated = await users.rotateSecret(operationContext(request), request.params.username, {
        graceMinutes: request.body.graceMinutes ?? 0,
      });
      return { secret: rotated.secret, previousSecretValidUntil: toIso(rotated.previousValidUntil) };
    },
  );

  for (const action of ['deactivate', 'reactivate'] as const) {
    app.post(
      `/api/v1/users/:username/${action}`,
      {
        config: write,
        schema: {
          tags,
          summary: action === 'deactivate' ? 'Deactivate a user (ends its sessions)' : 'Reactivate a user',
          params: UsernameParams,
          response: { 200: UserSchema },
        },
      },
      (request) => users[action](operationContext(request), request.params.username),
    );
  }
}
