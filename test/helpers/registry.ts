import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import type { TestContext } from './test-app.js';

let nextAddress = 1;

/** A source address of its own per call site, so the registry's per-address rate limit stays out of the way. */
export function freshAddress(): string {
  const n = nextAddress++;
  return `198.51.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
}

/** A device's request to the registry: no session, from `remoteAddress` (a fresh one by default). */
export function deviceCall(
  t: TestContext,
  method: 'GET' | 'POST',
  url: string,
  options: { payload?: object; pollSecret?: string; remoteAddress?: string } = {},
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method,
    url,
    remoteAddress: options.remoteAddress ?? freshAddress(),
    headers: options.pollSecret ? { authorization: `Bearer ${options.pollSecret}` } : {},
    ...(options.payload ? { payload: options.payload } : {}),
  });
}

/** Submits a registration request and returns its id and poll secret (throws unless 202). */
export async function register(
  t: TestContext,
  body: object,
  remoteAddress?: string,
): Promise<{ requestId: string; pollSecret: string }> {
  const res = await deviceCall(t, 'POST', '/api/v1/registry/requests', {
    payload: body,
    ...(remoteAddress ? { remoteAddress } : {}),
  });
  if (res.statusCode !== 202) throw new Error(`register: ${res.statusCode} ${res.body}`);
  return res.json() as { requestId: string; pollSecret: string };
}

/** A device's key and CSR made by the real `openssl req` (EC P-256, CN = `cn`), in a temp directory. */
export function opensslCsr(cn: string): { dir: string; csrPem: string; keyPath: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-csr-'));
  const keyPath = path.join(dir, 'device.key');
  const csrPath = path.join(dir, 'device.csr');
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      keyPath,
      '-out',
      csrPath,
    ],
    { stdio: 'pipe' },
  );
  return { dir, csrPem: fs.readFileSync(csrPath, 'utf8'), keyPath };
}

/** `openssl verify -CAfile <chain> <certificate>`: its output, or throws with openssl's complaint. */
export function opensslVerify(dir: string, certificatePem: string, chainPem: string): string {
  const certPath = path.join(dir, 'device.crt');
  const chainPath = path.join(dir, 'chain.pem');
  fs.writeFileSync(certPath, certificatePem);
  fs.writeFileSync(chainPath, chainPem);
  return execFileSync('openssl', ['verify', '-CAfile', chainPath, certPath], { stdio: 'pipe' }).toString();
}
