import { TLSSocket, type TlsOptions } from 'node:tls';
import type { PresentedCertificate } from '../../modules/certificates/certificate-trust.js';

/**
 * The TLS listener's part in client-certificate authentication (docs/certificates.md#mqtt-over-tls-with-a-client-certificate):
 * it asks every client for a certificate and verifies what is presented against Warden's CA alone — without
 * refusing the handshake, so that clients without a certificate (username and password) keep connecting, and a
 * certificate that does not verify is refused at CONNECT with a proper CONNACK instead of a broken handshake.
 */
export function clientCertificateOptions(
  caPem: string,
): Pick<TlsOptions, 'ca' | 'requestCert' | 'rejectUnauthorized'> {
  return { ca: caPem, requestCert: true, rejectUnauthorized: false };
}

/** The client certificate a connection presented during its TLS handshake, or null (none, or no TLS). */
export function presentedCertificate(conn: unknown): PresentedCertificate | null {
  if (!(conn instanceof TLSSocket)) return null;
  const peer = conn.getPeerCertificate();
  // Node answers an empty object when the client sent no certificate.
  if (!peer?.raw || !peer.serialNumber) return null;
  // Several CNs arrive as an array: no single name, so no user.
  const commonName = typeof peer.subject?.CN === 'string' ? peer.subject.CN : null;
  return {
    chainVerified: conn.authorized,
    commonName,
    serialNumber: peer.serialNumber,
    fingerprintSha256: peer.fingerprint256,
  };
}
