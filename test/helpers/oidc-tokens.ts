import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import type { TestOidcProvider } from './oidc-provider.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from './sso.js';

/** The redirect URI the test clients register; `signIn` returns as soon as the provider sends the browser there. */
export const TEST_REDIRECT_URI = 'http://127.0.0.1/sso/callback';

/**
 * A real ID token from a test OpenID Provider: the authorization code flow (PKCE, state, nonce) through the
 * provider's sign-in as `accountId`, then openid-client's code exchange, which validates the ID token as a relying
 * party would.
 */
export async function idTokenFrom(
  op: TestOidcProvider,
  accountId: string,
  client: { clientId: string; clientSecret: string } = {
    clientId: TEST_CLIENT_ID,
    clientSecret: TEST_CLIENT_SECRET,
  },
): Promise<string> {
  const config = await oidc.discovery(new URL(op.issuer), client.clientId, client.clientSecret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: TEST_REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const redirected = await op.signIn(url.href, accountId);
  const tokens = await oidc.authorizationCodeGrant(config, redirected, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  if (!tokens.id_token) throw new Error('the provider answered no ID token');
  return tokens.id_token;
}

/** A JWT's parts decoded, for tests that forge variants of a real token. */
export function jwtParts(token: string): {
  header: Record<string, unknown>;
  payload: JWTPayload;
  signature: string;
} {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  return { header: decode(header), payload: decode(payload), signature };
}

/** A compact JWT from parts, signed or not: forged tokens (changed header, `alg: none`) keep `signature` as given. */
export function compactJwt(header: object, payload: object, signature: string): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

/**
 * A minimal OpenID provider for the token cases a real provider cannot be made to produce (chosen claims, an
 * email marked verified or not, access tokens in JWT form, other algorithms): discovery and a key set on a loopback
 * port, and a signer with the key the set publishes. Counts requests for the key set.
 */
export interface TestTokenIssuer {
  readonly issuer: string;
  /** Requests for the key set so far. */
  readonly jwksRequests: number;
  /** A token signed with the current key (ES256; `kid` and `typ` in the header unless overridden). */
  sign(payload: JWTPayload, header?: { kid?: string; typ?: string }): Promise<string>;
  stop(): Promise<void>;
}

export async function startTokenIssuer(): Promise<TestTokenIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = 'issuer-key-1';
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  let jwksRequests = 0;
  let issuer = '';
  const server = http.createServer((request, response) => {
    const send = (body: object) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.url === '/.well-known/openid-configuration') {
      return send({
        issuer,
        jwks_uri: `${issuer}/jwks`,
        authorization_endpoint: `${issuer}/auth`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
      });
    }
    if (request.url === '/jwks') {
      jwksRequests++;
      return send({ keys: [jwk] });
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    get jwksRequests() {
      return jwksRequests;
    },
    sign(payload, header = {}) {
      return new SignJWT(payload)
        .setProtectedHeader({
          alg: 'ES256',
          kid: header.kid ?? kid,
          ...(header.typ ? { typ: header.typ } : {}),
        })
        .sign(privateKey);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
