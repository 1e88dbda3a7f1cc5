import { Type } from 'typebox';
import { coreError } from '../../core/errors/core-errors.js';
import { operationContext } from '../../http/access-guard.js';
import { NoContent } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import { clearSessionCookie, setSessionCookie } from '../../http/session-cookie.js';
import { ChangeOwnPasswordBody, UserSchema } from '../users/users.schemas.js';

const tags = ['auth'];
const NextSchema = Type.Union([
  Type.Enum(['mfa', 'mfa_enroll', 'password_change'], { type: 'string' }),
  Type.Null(),
]);
const LoginResponse = Type.Object({ user: UserSchema, next: NextSchema });
const MeResponse = Type.Object({ user: UserSchema, next: NextSchema });

export async function authRoutes(app: App): Promise<void> {
  const { auth, users } = app.services;

  app.post(
    '/api/v1/auth/login',
    {
      config: { access: { kind: 'public' } },
      schema: {
        tags,
        summary: 'Log in with username and password',
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 200 }),
            password: Type.String({ maxLength: 4096 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: LoginResponse },
      },
    },
    async (request, reply) => {
      const meta = { ip: request.ip, userAgent: request.headers['user-agent'] ?? '' };
      const result = await auth.login(meta, request.id, request.body.username, request.body.password);
      setSessionCookie(request, reply, result.token);
      return { user: result.user, next: result.next };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: { access: { kind: 'login_step' } },
      schema: { tags, summary: 'End the current session', response: { 204: NoContent } },
    },
    async (request, reply) => {
      if (request.auth) await auth.logout(operationContext(request), request.auth.session.id);
      clearSessionCookie(request, reply);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/me',
    {
      config: { access: { kind: 'login_step' } },
      schema: { tags, summary: 'The current user and pending login step', response: { 200: MeResponse } },
    },
    async (request) => {
      if (!request.auth) throw coreError('auth.required');
      const user = await users.get(request.auth.user.username);
      return { user, next: request.stage === 'active' || request.stage === null ? null : request.stage };
    },
  );

  app.put(
    '/api/v1/me/password',
    {
      config: { access: { kind: 'login_step', stages: ['password_change'] } },
      schema: {
        tags,
        summary: 'Change own password (ends the other sessions)',
        body: ChangeOwnPasswordBody,
        response: { 200: Type.Object({ next: NextSchema }) },
      },
    },
    async (request) => {
      const ctx = operationContext(request);
      const session = request.auth;
      if (!session || ctx.actor.type !== 'user') throw coreError('auth.required');
      await users.changeOwnPassword(
        { ...ctx, actor: ctx.actor },
        request.body.currentPassword,
        request.body.password,
      );
      const { db } = app.services.infra;
      const next =
        request.stage === 'password_change'
          ? await db
              .transaction()
              .execute((trx) => auth.advance(trx, session.session.id, session.user, { mfaVerified: true }))
          : null;
      return { next };
    },
  );
}
