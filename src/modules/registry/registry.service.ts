import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type Clock, toIso } from '../../core/clock.js';
import type { CredentialHasher } from '../../core/crypto/credential-hasher.js';
import { generateOpaqueSecret } from '../../core/crypto/generated-secret.js';
import { prefixedTokenVerifier } from '../../core/crypto/prefixed-token.js';
import { fallbackLogger } from '../../core/logging/logger.js';
import type { ChangeFeed } from '../../db/change-feed/change-feed.js';
import type { Engine } from '../../db/database.js';
import { isUniqueViolation } from '../../db/dialects/unique-violation.js';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { CertificateAuthority } from '../certificates/certificate-authority.js';
import type { OperationContext } from '../permissions/operation-context.js';
import { actorName } from '../permissions/permissions.policy.js';
import type { UserReader } from '../users/users.reader.js';
import type { UsersService } from '../users/users.service.js';
import { registryError } from './registry.errors.js';
import {
  claimDelivery,
  countPending,
  decideRequest,
  expirePending,
  findRequest,
  insertRequest,
  listRequests,
  pendingFor,
  purgeExpiredTokens,
  purgeFinished,
  readState,
  updateRequest,
  updateState,
} from './registry.repository.js';
import {
  type ApproveInput,
  type Credentials,
  type DeviceStatus,
  type ListRequestsInput,
  MAX_METADATA_BYTES,
  type RegistrationInput,
  type RegistryLimits,
  type RegistryRequest,
  type RegistryRequestList,
  type RegistryState,
  type RejectInput,
  type RequestStatus,
  type Submitted,
} from './registry.schemas.js';
import type {
  RegistryRequestRow,
  RegistryRequestUpdate,
  RegistryStateRow,
  RegistryStateUpdate,
  RequestSource,
} from './registry.table.js';
import { createRegistryAdmission } from './registry-admission.js';
import { POLL_SECRET } from './registry-tokens.js';
import type { RegistryTokensService } from './registry-tokens.service.js';

/** Bytes of a poll secret's random part (256 bits). */
const POLL_SECRET_BYTES = 32;
/** Finished requests (and expired tokens) are kept this long for the console and the devices, then deleted. */
const RETENTION_MS = 7 * 86_400_000;
const CLEANUP_EVERY_MS = 10 * 60_000;

/** Where a device's request or poll came from. */
export interface DeviceMeta {
  readonly ip: string;
  /** The HTTP request id, or '' over MQTT. */
  readonly requestId: string;
}

/** A device's submission: the body, plus where it came from (over MQTT the connection's client id is forced). */
export interface Submission {
  readonly input: RegistrationInput;
  readonly source: RequestSource;
  readonly meta: DeviceMeta;
}

export type RegistryService = ReturnType<typeof createRegistryService>;

export function requestTarget(id: string): string {
  return `registry_request:${id}`;
}

/** The status as the clock sees it: a pending request past its expiry is expired. */
function statusAt(row: RegistryRequestRow, now: number): RequestStatus {
  return row.status === 'pending' && row.expires_at <= now ? 'expired' : row.status;
}

function toPublic(row: RegistryRequestRow, now: number): RegistryRequest {
  return {
    id: row.id,
    username: row.username,
    clientId: row.client_id,
    source: row.source,
    ip: row.ip,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    hasCsr: row.csr_pem !== null,
    viaToken: row.enrolment_token_id,
    status: statusAt(row, now),
    createdAt: toIso(row.created_at) as string,
    expiresAt: toIso(row.expires_at) as string,
    decidedAt: toIso(row.decided_at),
    decidedBy: row.decided_by,
    reason: row.reason,
    accessRoles: row.access_roles === null ? [] : (JSON.parse(row.access_roles) as string[]),
    certificateSerial: row.certificate_serial,
    credentialsDelivered: row.delivered_at !== null,
  };
}

function limitsOf(state: RegistryStateRow): RegistryLimits {
  return {
    maxPending: state.max_pending,
    requestExpiryHours: state.request_expiry_hours,
    certificateValidityDays: state.certificate_validity_days,
  };
}

/** The context of something a device does (no actor Warden knows); audited as `anonymous` or as its user. */
function deviceContext(meta: DeviceMeta): OperationContext {
  return { actor: { type: 'system' }, ip: meta.ip, requestId: meta.requestId };
}

/**
 * The device client registry (docs/registry.md): whether registration is open (an unlock or an enrolment
 * token), devices' requests and their polls, administrators' decisions, and the one delivery of an approved
 * device's credentials. Nothing is cached: the unlock, the limits and every request are read from the database,
 * so all instances agree at once. Each change is one transaction with its audit event; a decision is also
 * recorded in the change feed, which carries it to the instance whose embedded broker holds the device's
 * MQTT connection.
 */
export function createRegistryService(deps: {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
  audit: AuditService;
  credentials: CredentialHasher;
  changes: Pick<ChangeFeed, 'record' | 'settled'>;
  users: Pick<UsersService, 'createMachineWithin' | 'issueGeneratedSecretWithin'>;
  userReader: Pick<UserReader, 'findRow'>;
  tokens: Pick<RegistryTokensService, 'verify' | 'consume'>;
  /** Warden's CA: a request's CSR is checked when it arrives and signed at approval. */
  certificates: Pick<CertificateAuthority, 'checkCsr' | 'issue'>;
}) {
  const { db, engine, clock, audit, credentials } = deps;
  const findVerified = prefixedTokenVerifier(POLL_SECRET, credentials, POLL_SECRET_BYTES);
  const admission = createRegistryAdmission(() => clock.now());

  async function mustFind(trx: Kysely<Database>, id: string): Promise<RegistryRequestRow> {
    const row = POLL_SECRET.isId(id) ? await findRequest(trx, id) : undefined;
    if (!row) throw registryError('registry.request_not_found', `No registration request with id ${id}`);
    return row;
  }

  /** The request whose poll secret `presented` is, or null (an unknown id costs what a wrong secret does). */
  async function ownedBy(presented: string): Promise<RegistryRequestRow | null> {
    return findVerified(
      presented,
      (id) => findRequest(db, id),
      (request) => request.poll_secret_hash,
    );
  }

  /** Why a request that is not pending at `now` cannot be decided (409, with a stable code). */
  function notPending(row: RegistryRequestRow, now: number): Error {
    return statusAt(row, now) === 'expired'
      ? registryError('registry.request_expired', `The request of ${row.username} expired`)
      : registryError('registry.request_decided', `The request of ${row.username} was ${row.status} already`);
  }

  function isUnlocked(state: RegistryStateRow, now: number): boolean {
    return state.unlocked_until !== null && state.unlocked_until > now;
  }

  function locked(): Error {
    return registryError('registry.locked', 'The registry is locked; ask an administrator to unlock it');
  }

  function metadataJson(metadata: Record<string, unknown> | undefined): string {
    const json = JSON.stringify(metadata ?? {});
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > MAX_METADATA_BYTES) {
      throw registryError('registry.metadata_too_large', `metadata is ${bytes} bytes as JSON`);
    }
    return json;
  }

  async function state(): Promise<RegistryState> {
    const now = clock.now();
    const [row, pendingCount] = await Promise.all([readState(db), countPending(db, now)]);
    const unlocked = isUnlocked(row, now);
    return {
      unlockedUntil: unlocked ? toIso(row.unlocked_until) : null,
      unlocked,
      pendingCount,
      limits: limitsOf(row),
      now: toIso(now) as string,
    };
  }

  /** A change of the state row in one transaction (the row locked) with its audit event; answers the new state. */
  async function changeState(
    ctx: OperationContext,
    action: 'registry.unlock' | 'registry.lock' | 'registry.limits_update',
    change: (before: RegistryStateRow, now: number) => { patch: RegistryStateUpdate; details: object },
  ): Promise<RegistryState> {
    await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const { patch, details } = change(await readState(trx, { engine }), now);
      await updateState(trx, { ...patch, updated_at: now });
      await audit.record(trx, ctx, { action, target: 'registry', details: { ...details } });
    });
    return state();
  }

  /**
   * A decision in one transaction with its audit event, recorded in the change feed for a device waiting over
   * MQTT. `apply` wins the request from `pending` and does the rest; a refusal is audited as `action`.
   */
  async function decide(
    ctx: OperationContext,
    id: string,
    action: 'registry.approve' | 'registry.reject',
    apply: (trx: Kysely<Database>, row: RegistryRequestRow, now: number) => Promise<Record<string, unknown>>,
  ): Promise<RegistryRequest> {
    const row = await audit.refusable(ctx, { action, target: requestTarget(id) }, () =>
      db.transaction().execute(async (trx) => {
        const before = await mustFind(trx, id);
        const details = await apply(trx, before, clock.now());
        await audit.record(trx, ctx, {
          action,
          target: requestTarget(id),
          details: { username: before.username, ...details },
        });
        await deps.changes.record(trx, 'registry.decided', {
          requestId: id,
          username: before.username,
          decision: action === 'registry.approve' ? 'approved' : 'rejected',
        });
        return mustFind(trx, id);
      }),
    );
    await deps.changes.settled();
    return toPublic(row, clock.now());
  }

  /** Wins a waiting request for a decision, or 409 with why it no longer waits. */
  async function win(
    trx: Kysely<Database>,
    row: RegistryRequestRow,
    now: number,
    patch: RegistryRequestUpdate,
  ): Promise<void> {
    if (!(await decideRequest(trx, row.id, now, patch))) throw notPending(row, now);
  }

  /** The credentials of an approved request, for the one claim that won their delivery (in its transaction). */
  async function credentialsOf(
    trx: Kysely<Database>,
    row: RegistryRequestRow,
  ): Promise<{ credentials: Credentials; committed: () => Promise<void> }> {
    if (row.certificate_pem !== null && row.certificate_chain_pem !== null) {
      return {
        credentials: {
          username: row.username,
          certificatePem: row.certificate_pem,
          chainPem: row.certificate_chain_pem,
        },
        committed: async () => {},
      };
    }
    if (row.user_id === null) throw new Error(`approved registration request ${row.id} names no user`);
    const { secret, committed } = await deps.users.issueGeneratedSecretWithin(trx, row.user_id);
    return { credentials: { username: row.username, password: secret }, committed };
  }

  /**
   * Delivers an approved request's credentials exactly once: the claim, the credential (a generated password is
   * drawn and stored only now, so no cleartext ever waits in the database) and the
   * `registry.credentials_delivered` event are one transaction, so of two racing claims (two polls, two
   * instances) only one gets them. Null when they were delivered before.
   */
  async function claim(id: string, meta: DeviceMeta, via: RequestSource): Promise<Credentials | null> {
    const outcome = await db.transaction().execute(async (trx) => {
      if (!(await claimDelivery(trx, id, clock.now()))) return null;
      const row = await mustFind(trx, id);
      const delivered = await credentialsOf(trx, row);
      await audit.record(trx, deviceContext(meta), {
        action: 'registry.credentials_delivered',
        actor: { type: 'user', name: `user:${row.username}` },
        target: requestTarget(id),
        details: {
          username: row.username,
          via,
          kind: row.certificate_pem === null ? 'password' : 'certificate',
        },
      });
      return delivered;
    });
    if (outcome === null) return null;
    await outcome.committed();
    return outcome.credentials;
  }

  /**
   * What a device that proved it owns request `row` learns: the status, and with `approved` the credentials when
   * this answer wins their one delivery.
   */
  async function answer(
    row: RegistryRequestRow,
    meta: DeviceMeta,
    via: RequestSource,
  ): Promise<DeviceStatus> {
    const status = statusAt(row, clock.now());
    const base = { requestId: row.id, status, expiresAt: toIso(row.expires_at) as string };
    if (status === 'rejected') return { ...base, reason: row.reason };
    if (status !== 'approved') return base;
    const delivered = await claim(row.id, meta, via);
    return delivered === null
      ? { ...base, credentialsDelivered: true }
      : { ...base, credentialsDelivered: false, credentials: delivered };
  }

  async function cleanup(): Promise<void> {
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      await expirePending(trx, now);
      await purgeFinished(trx, now - RETENTION_MS);
      await purgeExpiredTokens(trx, now - RETENTION_MS);
    });
  }

  return {
    /**
     * The per-address rate limit of what devices send (docs/registry.md#limits): 0 when `ip` may send one more
     * request or poll now, else the milliseconds until it may (429 `registry.throttled`).
     */
    admit: admission.admit,

    /** Whether devices may register now without a token, how many requests wait, and the limits. */
    state,

    /** Lets devices register without a token for `minutes` (1–60, checked by the schema); audited. */
    unlock(ctx: OperationContext, minutes: number): Promise<RegistryState> {
      return changeState(ctx, 'registry.unlock', (_before, now) => ({
        patch: { unlocked_until: now + minutes * 60_000 },
        details: { minutes, until: toIso(now + minutes * 60_000) },
      }));
    },

    /** Ends an unlock at once; audited (also when the registry was locked already). */
    lock(ctx: OperationContext): Promise<RegistryState> {
      return changeState(ctx, 'registry.lock', (before, now) => ({
        patch: { unlocked_until: null },
        details: { wasUnlocked: isUnlocked(before, now) },
      }));
    },

    /** Replaces the limits; audited with before and after. They apply to requests made from now on. */
    setLimits(ctx: OperationContext, limits: RegistryLimits): Promise<RegistryState> {
      return changeState(ctx, 'registry.limits_update', (before) => ({
        patch: {
          max_pending: limits.maxPending,
          request_expiry_hours: limits.requestExpiryHours,
          certificate_validity_days: limits.certificateValidityDays,
        },
        details: { before: limitsOf(before), after: limits },
      }));
    },

    /**
     * Whether a device without a token may open a registration connection now (the embedded broker asks at
     * CONNECT); requests are checked again when they arrive.
     */
    async isUnlocked(): Promise<boolean> {
      return isUnlocked(await readState(db), clock.now());
    },

    /** Whether `presented` is an enrolment token valid now (the MQTT registration identity's password). */
    async tokenAdmits(presented: string): Promise<boolean> {
      return deps.tokens.verify(db, presented, clock.now()).then(
        () => true,
        () => false,
      );
    },

    /**
     * A device's registration request (REST or MQTT). Refused unless the registry is unlocked or the request
     * brings a valid enrolment token (one use of it is taken with the request); a CSR is checked before anything
     * is stored. Answers the poll secret, this once; audited `registry.request` (refusals are not audited: anyone
     * can send them, and the rate limit bounds them).
     */
    async submit({ input, source, meta }: Submission): Promise<Submitted> {
      const metadata = metadataJson(input.metadata);
      // Before the CSR is looked at: a locked registry tells a device without a token nothing else.
      if (input.token === undefined && !isUnlocked(await readState(db), clock.now())) throw locked();
      if (input.csr !== undefined) await deps.certificates.checkCsr(input.csr, input.username);
      const secret = generateOpaqueSecret(POLL_SECRET_BYTES);
      const { id, token: pollSecret } = POLL_SECRET.issue(secret);
      try {
        return await db.transaction().execute(async (trx) => {
          const current = await readState(trx, { engine });
          const now = clock.now();
          const tokenId = input.token === undefined ? null : await deps.tokens.verify(trx, input.token, now);
          if (tokenId === null && !isUnlocked(current, now)) throw locked();
          await expirePending(trx, now);
          const lower = input.username.toLowerCase();
          if ((await deps.userReader.findRow(input.username, trx)) || (await pendingFor(trx, lower, now))) {
            throw registryError('registry.username_taken', `The username ${input.username} is taken`);
          }
          if ((await countPending(trx, now)) >= current.max_pending) {
            throw registryError(
              'registry.full',
              `${current.max_pending} requests are waiting for a decision`,
            );
          }
          if (tokenId !== null) await deps.tokens.consume(trx, tokenId, now);
          const expiresAt = now + current.request_expiry_hours * 3_600_000;
          await insertRequest(trx, {
            id,
            username: input.username,
            username_lower: lower,
            client_id: input.clientId ?? null,
            csr_pem: input.csr ?? null,
            metadata,
            source,
            ip: meta.ip,
            poll_secret_hash: credentials.hashGenerated(secret),
            enrolment_token_id: tokenId,
            status: 'pending',
            created_at: now,
            expires_at: expiresAt,
            decided_at: null,
            decided_by: null,
            reason: null,
            access_roles: null,
            user_id: null,
            certificate_serial: null,
            certificate_pem: null,
            certificate_chain_pem: null,
            delivered_at: null,
          });
          await audit.record(trx, deviceContext(meta), {
            action: 'registry.request',
            actor: { type: 'anonymous', name: 'anonymous' },
            target: requestTarget(id),
            details: {
              username: input.username,
              clientId: input.clientId ?? null,
              source,
              hasCsr: input.csr !== undefined,
              enrolment: tokenId,
            },
          });
          return {
            requestId: id,
            pollSecret,
            status: 'pending' as const,
            expiresAt: toIso(expiresAt) as string,
          };
        });
      } catch (error) {
        // Two requests for one name at once: the partial unique index lets only one of them wait.
        if (isUniqueViolation(error))
          throw registryError('registry.username_taken', `The username ${input.username} is taken`);
        throw error;
      }
    },

    /**
     * A device's poll of request `id` with its poll secret (`wdp_<id>_<secret>`): 404 for an unknown id and a
     * wrong secret alike. An approved request's credentials go to the first poll only; later polls learn
     * `credentialsDelivered: true`.
     */
    async poll(id: string, presented: string, meta: DeviceMeta): Promise<DeviceStatus> {
      const row = await ownedBy(presented);
      if (!row || row.id !== id)
        throw registryError('registry.request_not_found', `No registration request with id ${id}`);
      return answer(row, meta, 'rest');
    },

    /** The request whose poll secret `presented` is, or null (the MQTT registration identity's password). */
    ownedBy,

    /** The current row of a request a device proved it owns (null once deleted by the cleanup). */
    async reread(id: string): Promise<RegistryRequestRow | null> {
      return (await findRequest(db, id)) ?? null;
    },

    answer,

    async list(input: ListRequestsInput): Promise<RegistryRequestList> {
      const page = input.page ?? 1;
      const pageSize = input.pageSize ?? 25;
      const now = clock.now();
      const { rows, total } = await listRequests(
        db,
        { now, ...(input.status === undefined ? {} : { status: input.status }) },
        { limit: pageSize, offset: (page - 1) * pageSize },
      );
      return { items: rows.map((row) => toPublic(row, now)), total, page, pageSize };
    },

    async get(id: string): Promise<RegistryRequest> {
      return toPublic(await mustFind(db, id), clock.now());
    },

    /**
     * Approves a waiting request: the device user (kind device, role viewer, no scopes; the given access roles,
     * none by default, so no permissions) is created, and with a CSR its certificate issued, in the approval's
     * transaction. 409 `registry.request_decided` / `registry.request_expired` when it no longer waits.
     */
    approve(ctx: OperationContext, id: string, input: ApproveInput): Promise<RegistryRequest> {
      const accessRoles = input.accessRoles ?? [];
      return decide(ctx, id, 'registry.approve', async (trx, row, now) => {
        await win(trx, row, now, {
          status: 'approved',
          decided_at: now,
          decided_by: actorName(ctx.actor),
          access_roles: JSON.stringify(accessRoles),
        });
        const { userId, user } = await deps.users.createMachineWithin(trx, ctx, {
          username: row.username,
          kind: 'device',
          role: 'viewer',
          scopes: [],
          accessRoles,
          description: `Registered through the client registry (request ${row.id})`,
        });
        if (row.csr_pem === null) {
          await updateRequest(trx, row.id, { user_id: userId });
          return { accessRoles: user.accessRoles, credential: 'password' };
        }
        // The user exists now (in this transaction): the CA signs for it, with the CN it was stored with.
        const issued = await deps.certificates.issue(row.csr_pem, row.username, {
          validityDays: (await readState(trx)).certificate_validity_days,
          trx,
          context: ctx,
        });
        await updateRequest(trx, row.id, {
          user_id: userId,
          certificate_serial: issued.serialNumber,
          certificate_pem: issued.certificatePem,
          certificate_chain_pem: issued.chainPem,
        });
        return {
          accessRoles: user.accessRoles,
          credential: 'certificate',
          serialNumber: issued.serialNumber,
          notAfter: issued.notAfter,
        };
      });
    },

    /** Rejects a waiting request, with a reason the device is told. */
    reject(ctx: OperationContext, id: string, input: RejectInput): Promise<RegistryRequest> {
      return decide(ctx, id, 'registry.reject', async (trx, row, now) => {
        await win(trx, row, now, {
          status: 'rejected',
          decided_at: now,
          decided_by: actorName(ctx.actor),
          reason: input.reason ?? null,
        });
        return { reason: input.reason ?? null };
      });
    },

    /** One cleanup pass: marks expired requests, deletes finished ones and expired tokens older than a week. */
    cleanup,

    /**
     * Runs the cleanup every ten minutes where `runs` says so (the instance holding the duties); returns the stop
     * function. Expiry itself needs no job: the clock decides it at every read.
     */
    start(options: { logger?: Logger; runs: () => boolean }): () => void {
      const logger = options.logger ?? fallbackLogger();
      const timer = setInterval(() => {
        if (!options.runs()) return;
        cleanup().catch((error: unknown) =>
          logger.warn({ err: error }, 'registry: cleanup failed, retried in ten minutes'),
        );
      }, CLEANUP_EVERY_MS);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
