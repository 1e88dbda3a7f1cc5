import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Runs the real `openssl` and returns its standard output; throws with its standard error when it fails. */
export function openssl(args: readonly string[], options: { input?: string } = {}): string {
  return execFileSync('openssl', args, {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}

/** A temporary directory for keys and certificates, removed by `remove()`. */
export function tempDir(prefix = 'warden-pki-'): { dir: string; file(name: string): string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    file: (name) => path.join(dir, name),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

export type KeySpec =
  | { readonly kind: 'ec'; readonly curve: string }
  | { readonly kind: 'rsa'; readonly bits: number };

export const EC_P256: KeySpec = { kind: 'ec', curve: 'prime256v1' };

/** A private key (PEM file) made by openssl. */
export function makeKey(file: string, spec: KeySpec = EC_P256): string {
  if (spec.kind === 'ec') openssl(['ecparam', '-name', spec.curve, '-genkey', '-noout', '-out', file]);
  else openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${spec.bits}`, '-out', file]);
  return file;
}

/** A CSR for `subject` (e.g. `/CN=dev-1`) signed by the key in `keyFile`, as `openssl req` makes it. */
export function makeCsr(keyFile: string, subject: string): string {
  return openssl(['req', '-new', '-key', keyFile, '-subj', subject]);
}

/**
 * A new self-signed CA (`<name>-ca.pem`) and a certificate for `subject` with the given extensions signed by it,
 * made with openssl as an operator would: `{ caFile, certFile, keyFile }`.
 */
function certificateFromNewCa(
  dir: { file(name: string): string },
  name: string,
  caSubject: string,
  subject: string,
  extensions: string,
): { caFile: string; certFile: string; keyFile: string } {
  const caKey = makeKey(dir.file(`${name}-ca.key`));
  const caFile = dir.file(`${name}-ca.pem`);
  openssl(['req', '-x509', '-new', '-key', caKey, '-subj', caSubject, '-days', '2', '-out', caFile]);
  const keyFile = makeKey(dir.file(`${name}.key`));
  const csrFile = dir.file(`${name}.csr`);
  fs.writeFileSync(csrFile, makeCsr(keyFile, subject));
  const extFile = dir.file(`${name}.ext`);
  fs.writeFileSync(extFile, extensions);
  const certFile = dir.file(`${name}.pem`);
  openssl(
    ['x509', '-req', '-in', csrFile, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '2'].concat([
      '-extfile',
      extFile,
      '-out',
      certFile,
    ]),
  );
  return { caFile, certFile, keyFile };
}

/**
 * A self-signed CA and a server certificate for `localhost`/127.0.0.1 signed by it, as an operator would make
 * them for the TLS listener: `{ caFile, certFile, keyFile }`.
 */
export function makeServerPki(dir: { file(name: string): string }): {
  caFile: string;
  certFile: string;
  keyFile: string;
} {
  return certificateFromNewCa(
    dir,
    'server',
    '/CN=Test server CA',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
}

/** A client certificate for `subject` signed by a CA that is not Warden's (made here). */
export function makeForeignClientCertificate(
  dir: { file(name: string): string },
  subject: string,
): { certFile: string; keyFile: string } {
  const { certFile, keyFile } = certificateFromNewCa(
    dir,
    'foreign',
    '/CN=Foreign CA',
    subject,
    'extendedKeyUsage=clientAuth\n',
  );
  return { certFile, keyFile };
}
