import { coreError } from '../../core/errors/core-errors.js';
import { operationContext } from '../../http/access-guard.js';
import { NoContent } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import { clearSessionCookie, setSessionCookie } from '../../http/session-cookie.js';
import { MfaLoginBody } from '../mfa/mfa.schemas.js';
import { EndSessionSchema } from '../sso/sso-login.schemas.js';
import { ChangeOwnPasswordBody } from '../users/users.schemas.js';
import { LoginBody, NextOnlySchema, UserWithNextSchema } from './auth.schemas.js';
import { selfRequest } from './self-request.js';

const tags = ['auth'];

export async function authRoutes(app: App): Promise<void> {
  const { auth, users, ssoLogin } = app.services;

  app.post(
    '/api/v1/auth/login',
    {
      config: { access: { kind: 'public' } },
      schema: {
        tags,
        summary: 'Log in with username and password',
        description:
          '`next` says what the new session must do before it is complete: `mfa` (POST /api/v1/auth/mfa), ' +
          '`password_change` (PUT /api/v1/me/password) or `mfa_enroll` (POST /api/v1/me/mfa/totp, then confirm).',
        body: LoginBody,
        response: { 200: UserWithNextSchema },
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
    '/api/v1/auth/mfa',
    {
      config: { access: { kind: 'login_step', stages: ['mfa'] } },
      schema: {
        tags,
        summary: 'Second login step: a TOTP code or a recovery code',
        body: MfaLoginBody,
        response: { 200: UserWithNextSchema },
      },
    },
    async (request, reply) => {
      const { ctx, session } = selfRequest(request);
      const { user, next, token } = await auth.completeMfa(ctx, session, request.body);
      setSessionCookie(request, reply, token);
      return { user, next };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: { access: { kind: 'login_step' } },
      schema: {
        tags,
        summary: 'End the current session',
        description:
          'Answers 204, or — for a session an SSO sign-in started, at a provider with an end-session endpoint — ' +
          '200 `{endSessionUrl}`: the session has ended here; send the browser there to sign out at the provider ' +
          "too (RP-initiated logout, docs/sso.md#signing-in), which sends it back to the console's sign-in page.",
        response: { 200: EndSessionSchema, 204: NoContent },
      },
    },
    async (request, reply) => {
      const session = request.auth?.session;
      if (session) await auth.logout(operationContext(request), session.id);
      clearSessionCookie(request, reply);
      const endSessionUrl = session
        ? await ssoLogin.endSessionUrl(session, `${request.protocol}://${request.host}/login`)
        : null;
      if (endSessionUrl) return { endSessionUrl };
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/me',
    {
      config: { access: { kind: 'login_step', apiKeys: true } },
      schema: {
        tags,
        summary:
          "The current user and pending login step (with an API key: its owner, with the key's effective role and scopes)",
        response: { 200: UserWithNextSchema },
      },
    },
    async (request) => {
      const actor = request.actor;
      if (actor?.type === 'apikey') {
        const owner = await users.get(actor.username);
        return { user: { ...owner, role: actor.role, scopes: [...actor.scopes] }, next: null };
      }
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
        response: { 200: NextOnlySchema },
      },
    },
    async (request, reply) => {
      const { ctx, session } = selfRequest(request);
      const progress = await auth.changeOwnPassword(
        ctx,
        session,
        request.body.currentPassword,
        request.body.password,
      );
      if (progress) setSessionCookie(request, reply, progress.token);
      return { next: progress?.next ?? null };
    },
  );
}
