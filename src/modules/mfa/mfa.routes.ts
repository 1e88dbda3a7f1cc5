import { operationContext } from '../../http/access-guard.js';
import { NoContent, UsernameParams } from '../../http/common-schemas.js';
import type { App } from '../../http/fastify-types.js';
import { setSessionCookie } from '../../http/session-cookie.js';
import { selfRequest } from '../auth/self-request.js';
import { ConfirmTotpBody, ConfirmTotpResponse, DisableMfaBody, TotpEnrolmentSchema } from './mfa.schemas.js';

const tags = ['mfa'];
/** Enrolment is self-service, and the only thing a session held at `mfa_enroll` may do besides /me and logout. */
const enrol = { access: { kind: 'login_step', stages: ['mfa_enroll'] } } as const;

export async function mfaRoutes(app: App): Promise<void> {
  const { mfa, auth } = app.services;

  app.post(
    '/api/v1/me/mfa/totp',
    {
      config: enrol,
      schema: {
        tags,
        summary:
          'Start TOTP enrolment: a new secret as base32, otpauth URI and QR code (not active until confirmed)',
        response: { 200: TotpEnrolmentSchema },
      },
    },
    (request) => mfa.beginTotp(selfRequest(request).ctx),
  );

  app.post(
    '/api/v1/me/mfa/totp/confirm',
    {
      config: enrol,
      schema: {
        tags,
        summary:
          'Confirm enrolment with a current code; answers the ten recovery codes, shown only this once',
        body: ConfirmTotpBody,
        response: { 200: ConfirmTotpResponse },
      },
    },
    async (request, reply) => {
      const { ctx, session } = selfRequest(request);
      const { recoveryCodes } = await mfa.confirmTotp(ctx, request.body.code);
      const progress = await auth.continueLogin(session, 'mfa_enroll');
      if (progress) setSessionCookie(request, reply, progress.token);
      return { recoveryCodes, next: progress?.next ?? null };
    },
  );

  app.delete(
    '/api/v1/me/mfa',
    {
      config: { access: { kind: 'self' } },
      schema: {
        tags,
        summary: 'Disable own MFA with a current code or the password (refused when the role requires MFA)',
        body: DisableMfaBody,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await mfa.disable(selfRequest(request).ctx, request.body);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/api/v1/users/:username/mfa',
    {
      config: { access: { kind: 'write', scope: 'user_management' } },
      schema: {
        tags,
        summary: "Reset a user's MFA (lost authenticator): the user enrols again at the next login",
        params: UsernameParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      await mfa.reset(operationContext(request), request.params.username);
      return reply.status(204).send(null);
    },
  );
}
