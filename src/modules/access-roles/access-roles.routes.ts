import { operationContext } from '../../http/access-guard.js';
import { NoContent } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import {
  AccessRoleListSchema,
  AccessRoleParams,
  AccessRoleSchema,
  CreateAccessRoleBody,
  DeleteAccessRoleQuery,
  ListAccessRolesQuery,
  UpdateAccessRoleBody,
} from './access-roles.schemas.js';

const tags = ['access roles'];
/**
 * Reading access roles needs any complete session; changing them needs asset_management
 * (docs/permissions.md).
 */
const read = { access: { kind: 'read' } } as const;
const write = { access: { kind: 'write', scope: 'asset_management' } } as const;

export async function accessRolesRoutes(app: App): Promise<void> {
  const { accessRoles } = app.services;

  app.get(
    '/api/v1/access-roles',
    {
      config: read,
      schema: {
        tags,
        summary: 'List access roles',
        querystring: ListAccessRolesQuery,
        response: { 200: AccessRoleListSchema },
      },
    },
    (request) => accessRoles.list(request.query),
  );

  app.post(
    '/api/v1/access-roles',
    {
      config: write,
      schema: {
        tags,
        summary: 'Create an access role',
        body: CreateAccessRoleBody,
        response: { 201: AccessRoleSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await accessRoles.create(operationContext(request), request.body)),
  );

  app.get(
    '/api/v1/access-roles/:name',
    {
      config: read,
      schema: {
        tags,
        summary: 'Get an access role',
        params: AccessRoleParams,
        response: { 200: AccessRoleSchema },
      },
    },
    (request) => accessRoles.get(request.params.name),
  );

  app.put(
    '/api/v1/access-roles/:name',
    {
      config: write,
      schema: {
        tags,
        summary: "Replace an access role's rules (and description); applies to live connections at once",
        params: AccessRoleParams,
        body: UpdateAccessRoleBody,
        response: { 200: AccessRoleSchema },
      },
    },
    (request) => accessRoles.update(operationContext(request), request.params.name, request.body),
  );

  app.delete(
    '/api/v1/access-roles/:name',
    {
      config: write,
      schema: {
        tags,
        summary: 'Delete an access role (409 while users hold it, unless force=true)',
        params: AccessRoleParams,
        querystring: DeleteAccessRoleQuery,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await accessRoles.remove(operationContext(request), request.params.name, {
        force: request.query.force ?? false,
      });
      return reply.status(204).send(null);
    },
  );
}
