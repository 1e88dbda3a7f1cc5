import type { Kysely } from 'kysely';
import QRCode from 'qrcode';
import type { Clock } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import type { SecretBox } from '../../core/crypto/secret-box.js';
import { coreError } from '../../core/errors/core-errors.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OperationContext, SelfContext } from '../permissions/operation-context.js';
import { canActOn } from '../permissions/permissions.policy.js';
import { enforce } from '../permissions/refusal.js';
import type { SettingsService } from '../settings/settings.service.js';
import { isThrottled, type ThrottleService } from '../throttle/throttle.service.js';
import { policyTarget, userTarget } from '../users/users.mapper.js';
import type { UserReader } from '../users/users.reader.js';
import type { UserRow } from '../users/users.table.js';
import {
  hashRecoveryCode,
  matchTotpStep,
  newRecoveryCodes,
  newTotpKey,
  secretOfUri,
  totpKeyUri,
} from './mfa.crypto.js';
import { mfaError } from './mfa.errors.js';
import {
  clearMfa,
  consumeRecoveryCode,
  consumeTotpStep,
  countUnusedRecoveryCodes,
  enableTotp,
  findUserMfa,
  replaceRecoveryCodes,
  storePendingTotp,
  usersWithMfaEnabled,
} from './mfa.repository.js';
import type { DisableMfaInput, MfaLoginInput } from './mfa.schemas.js';

/** What login and the user directory need to know of a user's MFA. */
export interface MfaStatus {
  /** A confirmed authenticator is enrolled. */
  readonly enabled: boolean;
  /** The next login must enrol one (an admin reset it, or it was required and is missing). */
  readonly enrollRequired: boolean;
}

const NO_MFA: MfaStatus = Object.freeze({ enabled: false, enrollRequired: false });

/** A user's MFA state as the service works with it: the status plus the sealed secret. */
interface MfaState extends MfaStatus {
  readonly sealedSecret: string | null;
}

export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

/** What checking a second factor at login found; the reason goes to the audit log only. */
export type LoginFactorOutcome =
  | {
      readonly ok: true;
      readonly method: 'totp' | 'recovery_code';
      readonly recoveryCodesLeft: number | null;
    }
  | { readonly ok: false; readonly method: 'totp' | 'recovery_code'; readonly reason: string };

export type MfaService = ReturnType<typeof createMfaService>;

/**
 * TOTP enrolment and verification (docs/authentication.md#multi-factor-authentication-totp). Secrets are
 * sealed with the secret box, bound to their user; codes are checked against the injected clock; a code's
 * time step and each recovery code are consumed by one conditional UPDATE, so a code works once however many
 * requests race with it.
 */
export function createMfaService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  hasher: CredentialHasher;
  audit: AuditService;
  settings: SettingsService;
  throttle: ThrottleService;
  secretBox: SecretBox;
  users: UserReader;
  changes: Pick<ChangeFeed, 'record'>;
}) {
  const { db, clock, audit, secretBox } = deps;

  /** The sealed secret only opens for the user it was sealed for. */
  function secretContext(userId: string): string {
    return `totp:${userId}`;
  }

  function openSecret(userId: string, state: MfaState): Uint8Array | null {
    return state.sealedSecret ? secretBox.open(state.sealedSecret, secretContext(userId)) : null;
  }

  async function stateOf(userId: string, trx: Kysely<Database> = db): Promise<MfaState> {
    const row = await findUserMfa(trx, userId);
    if (!row) return { ...NO_MFA, sealedSecret: null };
    return {
      enabled: row.enabled === 1,
      enrollRequired: row.enroll_required === 1,
      sealedSecret: row.totp_secret,
    };
  }

  /**
   * Records an MFA change of `user` in the operation's transaction. Nothing decides on MFA state from a cache,
   * so no one waits for the feed to deliver it.
   */
  function recordChange(trx: Kysely<Database>, user: UserRow): Promise<void> {
    return deps.changes.record(trx, 'user.changed', {
      userId: user.id,
      username: user.username,
      change: 'mfa',
    });
  }

  async function currentUser(ctx: SelfContext): Promise<{ user: UserRow; state: MfaState }> {
    const user = await deps.users.findRowById(ctx.actor.userId);
    if (!user) throw coreError('auth.required');
    return { user, state: await stateOf(user.id) };
  }

  async function auditFailure(
    ctx: OperationContext,
    action: 'mfa.enroll' | 'mfa.disable',
    username: string,
    reason: string,
  ): Promise<void> {
    await db.transaction().execute((trx) =>
      audit.record(trx, ctx, {
        action,
        target: userTarget(username),
        outcome: 'failure',
        details: { reason },
      }),
    );
  }

  /** Whether `proof` (a current TOTP code, consumed, or the password) shows the user is present. */
  async function proofHolds(user: UserRow, state: MfaState, proof: DisableMfaInput): Promise<boolean> {
    if ('password' in proof) {
      return user.password_hash !== null && (await deps.hasher.verify(user.password_hash, proof.password));
    }
    const key = openSecret(user.id, state);
    const step = key ? matchTotpStep(key, proof.code, clock.now()) : null;
    return step !== null && (await consumeTotpStep(db, user.id, step));
  }

  return {
    /** A user's MFA status (no row: none). `db` may be the caller's transaction. */
    async status(userId: string, trx: Kysely<Database> = db): Promise<MfaStatus> {
      const { enabled, enrollRequired } = await stateOf(userId, trx);
      return { enabled, enrollRequired };
    },

    /** Which of `userIds` have an enabled authenticator (for the user directory). */
    enabledAmong(trx: Kysely<Database>, userIds: readonly string[]): Promise<Set<string>> {
      return usersWithMfaEnabled(trx, userIds);
    },

    /**
     * Removes a user's authenticator and recovery codes inside the caller's transaction (break-glass recovery);
     * returns whether one was enabled.
     */
    async clear(trx: Kysely<Database>, userId: string): Promise<boolean> {
      const { enabled } = await stateOf(userId, trx);
      await clearMfa(trx, userId, { enrollRequired: false, now: clock.now() });
      return enabled;
    },

    /**
     * Starts enrolment: a new secret, stored sealed but not yet enabled, returned once as base32, URI and QR code.
     * Starting again replaces a pending secret; an enabled authenticator must be disabled first.
     */
    async beginTotp(ctx: SelfContext): Promise<TotpEnrolment> {
      const { user, state } = await currentUser(ctx);
      if (state.enabled) throw mfaError('mfa.already_enabled');
      const key = newTotpKey();
      const otpauthUri = totpKeyUri(user.username, key);
      const stored = await storePendingTotp(
        db,
        user.id,
        secretBox.seal(key, secretContext(user.id)),
        clock.now(),
      );
      if (!stored) throw mfaError('mfa.already_enabled');
      const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
      return { secret: secretOfUri(otpauthUri), otpauthUri, qrSvg };
    },

    /**
     * Confirms enrolment with a code from the new authenticator: MFA is enabled and ten recovery codes are
     * issued (returned once, stored hashed). Of racing confirmations exactly one succeeds.
     */
    async confirmTotp(ctx: SelfContext, code: string): Promise<{ recoveryCodes: string[] }> {
      const { user, state } = await currentUser(ctx);
      if (state.enabled) throw mfaError('mfa.already_enabled');
      const key = openSecret(user.id, state);
      if (!key || !state.sealedSecret) throw mfaError('mfa.not_started', 'Start enrolment first');
      const sealed = state.sealedSecret;
      const step = matchTotpStep(key, code, clock.now());
      const recoveryCodes = newRecoveryCodes();
      const enabled = await db.transaction().execute(async (trx) => {
        const now = clock.now();
        if (step === null || !(await enableTotp(trx, user.id, sealed, step, now))) {
          // Committed on purpose: the failed attempt is part of the record.
          await audit.record(trx, ctx, {
            action: 'mfa.enroll',
            target: userTarget(user.username),
            outcome: 'failure',
            details: { reason: step === null ? 'invalid_code' : 'code_already_used' },
          });
          return false;
        }
        await replaceRecoveryCodes(trx, user.id, recoveryCodes.map(hashRecoveryCode));
        await audit.record(trx, ctx, {
          action: 'mfa.enroll',
          target: userTarget(user.username),
          details: { method: 'totp', codesIssued: recoveryCodes.length },
        });
        await recordChange(trx, user);
        return true;
      });
      if (!enabled) throw mfaError('mfa.invalid_code');
      return { recoveryCodes };
    },

    /**
     * Checks the second factor of a login inside the caller's transaction, consuming the code. Never throws for a
     * wrong code: the caller audits the outcome and answers the client.
     */
    async verifyLoginFactor(
      trx: Kysely<Database>,
      userId: string,
      factor: MfaLoginInput,
    ): Promise<LoginFactorOutcome> {
      if ('recoveryCode' in factor) {
        const used = await consumeRecoveryCode(
          trx,
          userId,
          hashRecoveryCode(factor.recoveryCode),
          clock.now(),
        );
        if (!used) return { ok: false, method: 'recovery_code', reason: 'invalid_recovery_code' };
        return {
          ok: true,
          method: 'recovery_code',
          recoveryCodesLeft: await countUnusedRecoveryCodes(trx, userId),
        };
      }
      const state = await stateOf(userId, trx);
      if (!state.enabled) return { ok: false, method: 'totp', reason: 'not_enrolled' };
      const key = openSecret(userId, state);
      if (!key) return { ok: false, method: 'totp', reason: 'secret_unreadable' };
      const step = matchTotpStep(key, factor.code, clock.now());
      if (step === null) return { ok: false, method: 'totp', reason: 'invalid_code' };
      if (!(await consumeTotpStep(trx, userId, step))) {
        return { ok: false, method: 'totp', reason: 'code_already_used' };
      }
      return { ok: true, method: 'totp', recoveryCodesLeft: null };
    },

    /**
     * Self-service disable with a current code or the password (throttled like a login, since it is a guessing
     * oracle for both). Refused with 403 mfa.required when the user's role requires MFA. Without an enabled
     * authenticator it only drops a pending enrolment.
     */
    async disable(ctx: SelfContext, proof: DisableMfaInput): Promise<void> {
      const { user, state } = await currentUser(ctx);
      const security = await deps.settings.getSecurity();
      if ((security.mfaRequiredRoles as readonly string[]).includes(user.role)) {
        await auditFailure(ctx, 'mfa.disable', user.username, 'required_for_role');
        throw mfaError('mfa.required', `MFA is required for the role ${user.role}`);
      }
      if (!state.enabled) {
        if (state.sealedSecret)
          await clearMfa(db, user.id, { enrollRequired: state.enrollRequired, now: clock.now() });
        return;
      }
      let holds: boolean;
      try {
        holds = await deps.throttle.guard(user.username, ctx.ip, { clearAccountOnSuccess: true }, () =>
          proofHolds(user, state, proof),
        );
      } catch (error) {
        if (isThrottled(error)) await auditFailure(ctx, 'mfa.disable', user.username, 'throttled');
        throw error;
      }
      if (!holds) {
        const reason = 'password' in proof ? 'wrong_password' : 'invalid_code';
        await auditFailure(ctx, 'mfa.disable', user.username, reason);
        throw mfaError('mfa.invalid_code');
      }
      await db.transaction().execute(async (trx) => {
        await clearMfa(trx, user.id, { enrollRequired: false, now: clock.now() });
        await audit.record(trx, ctx, {
          action: 'mfa.disable',
          target: userTarget(user.username),
          details: { proof: 'password' in proof ? 'password' : 'code' },
        });
        await recordChange(trx, user);
      });
    },

    /**
     * Admin reset (lost phone): removes the authenticator and recovery codes and makes the user enrol again at
     * the next login.
     */
    async reset(ctx: OperationContext, username: string): Promise<void> {
      await audit.refusable(ctx, { action: 'user.mfa_reset', target: userTarget(username) }, () =>
        db.transaction().execute(async (trx) => {
          const user = await deps.users.mustFindRow(username, trx);
          enforce(canActOn(ctx.actor, policyTarget(user)));
          const { enabled } = await stateOf(user.id, trx);
          await clearMfa(trx, user.id, { enrollRequired: true, now: clock.now() });
          await audit.record(trx, ctx, {
            action: 'user.mfa_reset',
            target: userTarget(user.username),
            details: {
              before: { mfaEnabled: enabled },
              after: { mfaEnabled: false, enrolAtNextLogin: true },
            },
          });
          await recordChange(trx, user);
        }),
      );
    },
  };
}
