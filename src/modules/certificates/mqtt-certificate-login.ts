import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { AuditService } from '../audit/audit.service.js';
import type { MqttAuthResult, MqttConnectAttempt } from '../mqtt/mqtt-auth.service.js';
import { userTarget } from '../users/users.mapper.js';
import type { CertificateRefusal, CertificateVerdict, PresentedCertificate } from './certificate-trust.js';
import { canonicalSerial } from './serial-number.js';

/** Why a certificate CONNECT was refused, as the audit log says it (never the client). */
type Refusal = CertificateRefusal | 'username_mismatch';

/** Refusals that name no certificate Warden issued: nobody known made the attempt. */
const ANONYMOUS: ReadonlySet<Refusal> = new Set(['untrusted_certificate', 'unknown_certificate']);

export interface CertificateLoginDeps {
  readonly db: Kysely<Database>;
  readonly audit: AuditService;
  readonly certificates: { verifyPresented(presented: PresentedCertificate): Promise<CertificateVerdict> };
}

/**
 * A CONNECT on the TLS listener that presented a client certificate (docs/certificates.md): the certificate alone
 * authenticates — a password, if sent, is not looked at — and a username, if sent, must be the certificate's
 * CN. Any certificate that does not authenticate a user is refused as not authorized, even when a password
 * comes with it: a client that shows a certificate is judged by it. Audited as `mqtt.connect` with
 * `method: certificate` and the serial, like a password CONNECT: on every refusal, and on acceptance when the
 * certificate was not remembered as trusted already (a reconnect of a trusted certificate writes nothing).
 */
export async function authenticateWithCertificate(
  deps: CertificateLoginDeps,
  attempt: MqttConnectAttempt,
  presented: PresentedCertificate,
): Promise<MqttAuthResult> {
  const serial = canonicalSerial(presented.serialNumber);
  const record = (username: string, outcome: 'success' | 'failure', reason: Refusal | null) =>
    deps.db.transaction().execute((trx) =>
      deps.audit.record(
        trx,
        { actor: { type: 'system' }, ip: attempt.ip, requestId: '' },
        {
          action: 'mqtt.connect',
          actor:
            reason !== null && ANONYMOUS.has(reason)
              ? { type: 'anonymous', name: 'anonymous' }
              : { type: 'user', name: `user:${username}` },
          target: userTarget(username),
          outcome,
          details: {
            clientId: attempt.clientId,
            method: 'certificate',
            serial,
            ...(reason ? { reason } : {}),
          },
        },
      ),
    );
  const verdict = await deps.certificates.verifyPresented(presented);
  if (!verdict.ok) {
    await record(
      verdict.username ?? presented.commonName ?? attempt.username ?? '',
      'failure',
      verdict.reason,
    );
    return { ok: false, reason: 'not_authorized' };
  }
  const claimed = attempt.username;
  if (claimed !== undefined && claimed !== '' && claimed.toLowerCase() !== verdict.username.toLowerCase()) {
    await record(verdict.username, 'failure', 'username_mismatch');
    return { ok: false, reason: 'not_authorized' };
  }
  if (!verdict.remembered) await record(verdict.username, 'success', null);
  return {
    ok: true,
    user: { userId: verdict.userId, username: verdict.username },
    verified: 'certificate',
    // No password credential to hold: the certificate's end bounds the connection instead.
    credential: '',
    validUntil: verdict.notAfter,
    certificateSerial: verdict.serial,
  };
}
