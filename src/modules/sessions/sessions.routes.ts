import { operationContext } from '../../http/access-guard.js';
import { NoContent, UsernameParams } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import { clearSessionCookie } from '../../http/session-cookie.js';
import { selfRequest } from '../auth/self-request.js';
import {
  AllSessionsQuery,
  EndedSchema,
  type PageInput,
  PageQuery,
  SessionIdParams,
  SessionListSchema,
} from './sessions.schemas.js';

const tags = ['sessions'];
const read = { access: { kind: 'read', scope: 'user_management' } } as const;
const write = { access: { kind: 'write', scope: 'user_management' } } as const;

function page(query: PageInput): { page: number; pageSize: number } {
  return { page: query.page ?? 1, pageSize: query.pageSize ?? 25 };
}

export async function sessionsRoutes(app: App): Promise<void> {
  const { sessions } = app.services;

  app.get(
    '/api/v1/me/sessions',
    {
      config: { access: { kind: 'self' } },
      schema: {
        tags,
        summary: 'My live sessions (the one making this request has `current: true`)',
        querystring: PageQuery,
        response: { 200: SessionListSchema },
      },
    },
    (request) => {
      const { session } = selfRequest(request);
      return sessions.list({ userId: session.user.id }, page(request.query), session.session.id);
    },
  );

  app.delete(
    '/api/v1/me/sessions',
    {
      config: { access: { kind: 'self' } },
      schema: {
        tags,
        summary: 'End all my other sessions (sign out everywhere else)',
        response: { 200: EndedSchema },
      },
    },
    async (request) => {
      const { ctx, session } = selfRequest(request);
      const ended = await sessions.revokeAllOfUser(ctx, session.user.username, {
        exceptId: session.session.id,
      });
      return { ended };
    },
  );

  app.delete(
    '/api/v1/me/sessions/:id',
    {
      config: { access: { kind: 'self' } },
      schema: {
        tags,
        summary: 'End one of my sessions (ending the current one logs out)',
        params: SessionIdParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { ctx, session } = selfRequest(request);
      await sessions.revoke(ctx, request.params.id, { ownerId: session.user.id });
      if (request.params.id === session.session.id) clearSessionCookie(request, reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/sessions',
    {
      config: read,
      schema: {
        tags,
        summary: 'All live sessions, optionally of one user',
        querystring: AllSessionsQuery,
        response: { 200: SessionListSchema },
      },
    },
    (request) => {
      const { username } = request.query;
      return sessions.list(username ? { username } : {}, page(request.query), request.auth?.session.id);
    },
  );

  app.delete(
    '/api/v1/sessions/:id',
    {
      config: write,
      schema: { tags, summary: 'End any session', params: SessionIdParams, response: { 204: NoContent } },
    },
    async (request, reply) => {
      await sessions.revoke(operationContext(request), request.params.id);
      if (request.params.id === request.auth?.session.id) clearSessionCookie(request, reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/users/:username/sessions',
    {
      config: read,
      schema: {
        tags,
        summary: "A user's live sessions",
        params: UsernameParams,
        querystring: PageQuery,
        response: { 200: SessionListSchema },
      },
    },
    (request) => sessions.listOfUser(request.params.username, page(request.query), request.auth?.session.id),
  );

  app.delete(
    '/api/v1/users/:username/sessions',
    {
      config: write,
      schema: {
        tags,
        summary: "End all of a user's sessions",
        params: UsernameParams,
        response: { 200: EndedSchema },
      },
    },
    async (request) => ({
      ended: await sessions.revokeAllOfUser(operationContext(request), request.params.username),
    }),
  );
}
