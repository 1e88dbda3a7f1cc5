import { createPublicKey } from 'node:crypto';
import { certificateError } from './certificates.errors.js';
import { x509 } from './x509.js';

/** Larger requests are refused before they are parsed (a CSR with an RSA 4096 key is under 2 KiB). */
export const MAX_CSR_BYTES = 8 * 1024;

/** Curves accepted for EC keys (Node's names), with how they are shown. */
const EC_CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384' };
const MIN_RSA_BITS = 2048;
/** Larger RSA keys only make every handshake slower; nobody needs them for a device. */
const MAX_RSA_BITS = 8192;

const PEM_TYPES = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);

/** A certificate signing request that passed every check. */
export interface AcceptedCsr {
  readonly request: x509.Pkcs10CertificateRequest;
  /** `ec` or `rsa`: decides the key usages of the certificate. */
  readonly keyKind: 'ec' | 'rsa';
  /** `EC P-256`, `EC P-384` or `RSA <bits>`. */
  readonly keyType: string;
}

function invalid(detail: string): never {
  throw certificateError('certificate.csr_invalid', detail);
}

function parse(csrPem: string): x509.Pkcs10CertificateRequest {
  let blocks: ReturnType<typeof x509.PemConverter.decodeWithHeaders>;
  try {
    blocks = x509.PemConverter.decodeWithHeaders(csrPem);
  } catch {
    invalid('Not PEM: expected one -----BEGIN CERTIFICATE REQUEST----- block');
  }
  const [block] = blocks;
  if (blocks.length !== 1 || !block || !PEM_TYPES.has(block.type)) {
    invalid('Expected exactly one PEM block of type CERTIFICATE REQUEST');
  }
  try {
    return new x509.Pkcs10CertificateRequest(block.rawData);
  } catch {
    invalid('The PEM block is not a well-formed PKCS#10 certificate request');
  }
}

/** The key's kind and description, or a refusal naming what is accepted. */
function keyOf(request: x509.Pkcs10CertificateRequest): { keyKind: 'ec' | 'rsa'; keyType: string } {
  let key: ReturnType<typeof createPublicKey>;
  try {
    key = createPublicKey({ key: Buffer.from(request.publicKey.rawData), format: 'der', type: 'spki' });
  } catch {
    invalid('The public key of the request cannot be read');
  }
  const accepted = 'accepted keys: EC P-256, EC P-384, RSA of 2048 to 8192 bits';
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curve = EC_CURVES[details.namedCurve ?? ''];
    if (!curve) invalid(`The EC curve ${details.namedCurve ?? '(unnamed)'} is not accepted; ${accepted}`);
    return { keyKind: 'ec', keyType: `EC ${curve}` };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) invalid(`An RSA key of ${bits} bits is too weak; ${accepted}`);
    if (bits > MAX_RSA_BITS) invalid(`An RSA key of ${bits} bits is too large; ${accepted}`);
    return { keyKind: 'rsa', keyType: `RSA ${bits}` };
  }
  return invalid(`The key type ${key.asymmetricKeyType ?? 'unknown'} is not accepted; ${accepted}`);
}

async function verifySignature(request: x509.Pkcs10CertificateRequest): Promise<void> {
  let verified = false;
  try {
    verified = await request.verify();
  } catch {
    // An algorithm WebCrypto does not know (e.g. an RSA-PSS signature) counts as not verified.
  }
  if (!verified) invalid('The signature of the request does not verify with its own key');
}

/**
 * The subject must name the user and nothing else can pass for a name: exactly one CN, equal to `username`
 * (exact spelling). Other attributes are ignored: the certificate's subject is `CN=<username>` alone.
 */
function checkSubject(request: x509.Pkcs10CertificateRequest, username: string): void {
  const names = request.subjectName.getField('CN');
  if (names.length !== 1) invalid(`The subject must hold exactly one CN, it holds ${names.length}`);
  if (names[0] !== username) invalid(`The CN of the subject must be the username ${username}`);
}

/**
 * Checks a device's certificate signing request (docs/certificates.md#certificate-requests): at most 8 KiB, one
 * PEM PKCS#10 request, an accepted key type, a signature that verifies with the request's own key (the device
 * holds the private key), and a subject whose only CN is `username`. Throws 400 `certificate.csr_too_large` or
 * `certificate.csr_invalid` with the reason in `detail`.
 */
export async function inspectCsr(csrPem: string, username: string): Promise<AcceptedCsr> {
  if (Buffer.byteLength(csrPem, 'utf8') > MAX_CSR_BYTES) {
    throw certificateError(
      'certificate.csr_too_large',
      `The request has ${Buffer.byteLength(csrPem, 'utf8')} bytes; at most ${MAX_CSR_BYTES} are accepted`,
    );
  }
  const request = parse(csrPem);
  const key = keyOf(request);
  await verifySignature(request);
  checkSubject(request, username);
  return { request, ...key };
}
