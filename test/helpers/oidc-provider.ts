import type { Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { freePort } from './warden-process.js';

/**
 * A real OpenID Provider for tests: panva's certified `oidc-provider`, on a free loopback port, with one
 * confidential client and accounts whose claims the test controls (and may change between logins).
 *
 * Sign-in is its development interaction (any password is accepted for a known login); consent is granted
 * automatically for the test client, so a browser or `signIn()` goes straight from the login form back to the
 * redirect URI.
 */

export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  groups?: string[];
  name?: string;
  /** Any further claims (returned with the `profile` scope). */
  [claim: string]: unknown;
}

export interface TestClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Exact redirect URIs the provider accepts. */
  readonly redirectUris: readonly string[];
  /** Where RP-initiated logout may send the browser back to. */
  readonly postLogoutRedirectUris?: readonly string[];
}

export interface TestOidcProviderOptions {
  readonly clients: readonly TestClient[];
  /** Lifetime of ID tokens in seconds (oidc-provider's default: 3600). */
  readonly idTokenTtlSeconds?: number;
  /** Lifetime of access tokens in seconds. */
  readonly accessTokenTtlSeconds?: number;
}

export interface TestOidcProvider {
  /** `http://127.0.0.1:<port>` — also the issuer identifier. */
  readonly issuer: string;
  readonly provider: Provider;
  /** Sets (or replaces) an account's claims; the next login or token sees them. */
  setAccount(id: string, account: TestAccount): void;
  /**
   * Follows an authorization URL through the provider's sign-in as `accountId` without a browser and returns the
   * URL the provider finally redirects to (the client's redirect URI with `code` and `state`, or an `error`).
   */
  signIn(authorizationUrl: string, accountId: string): Promise<URL>;
  /** Makes every key the provider signs with new (a rotation): tokens signed before carry an unknown `kid`. */
  rotateKeys(): Promise<void>;
  stop(): Promise<void>;
}

async function signingKeys(): Promise<{ keys: object[] }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { keys: [{ ...jwk, alg: 'RS256', use: 'sig', kid: `k${Date.now().toString(36)}${Math.random()}` }] };
}

export async function startOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const accounts = new Map<string, TestAccount>();
  let server: Server | undefined;
  let provider: Provider | undefined;
  let issuer = '';

  async function build(port: number): Promise<Provider> {
    const configuration: Configuration = {
      clients: options.clients.map((client) => ({
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: [...client.redirectUris],
        post_logout_redirect_uris: [...(client.postLogoutRedirectUris ?? [])],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      })),
      jwks: await signingKeys(),
      claims: {
        openid: ['sub'],
        // `xms_edov`: Microsoft Entra ID's "email domain owner verified", for the `entra` preset's sign-in tests.
        email: ['email', 'email_verified', 'xms_edov'],
        profile: ['name', 'preferred_username'],
        groups: ['groups'],
      },
      scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
      features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
      cookies: { keys: ['test-cookie-key-0123456789abcdef'] },
      ttl: {
        IdToken: options.idTokenTtlSeconds ?? 3600,
        AccessToken: options.accessTokenTtlSeconds ?? 3600,
        Session: 3600,
        Interaction: 600,
        Grant: 3600,
      },
      async findAccount(_ctx: KoaContextWithOIDC, id: string) {
        if (!accounts.has(id)) return undefined;
        return {
          accountId: id,
          // Read at every token issued, so a change made between two logins shows in the next one.
          async claims() {
            return { sub: id, ...accounts.get(id) };
          },
        };
      },
      // The test client is trusted: consent is granted without asking, so sign-in goes straight back to the client.
      async loadExistingGrant(ctx: KoaContextWithOIDC) {
        const { oidc } = ctx;
        const existing =
          oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(oidc.client?.clientId ?? '');
        if (existing) return oidc.provider.Grant.find(existing);
        const grant = new oidc.provider.Grant({
          clientId: oidc.client?.clientId,
          accountId: oidc.session?.accountId,
        });
        grant.addOIDCScope('openid email profile groups');
        grant.addOIDCClaims(['email', 'email_verified', 'xms_edov', 'groups', 'name', 'preferred_username']);
        await grant.save();
        return grant;
      },
    };
    const built = new Provider(`http://127.0.0.1:${port}`, configuration);
    // oidc-provider logs every server error to stderr; the tests assert on answers, not on that output.
    built.on('server_error', () => {});
    return built;
  }

  async function listen(port: number): Promise<void> {
    provider = await build(port);
    const app = provider;
    await new Promise<void>((resolve, reject) => {
      server = app.listen(port, '127.0.0.1', () => resolve()) as unknown as Server;
      server.once('error', reject);
    });
  }

  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  await listen(port);

  async function close(): Promise<void> {
    const current = server;
    server = undefined;
    if (!current) return;
    current.closeAllConnections?.();
    await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  return {
    get issuer() {
      return issuer;
    },
    get provider() {
      if (!provider) throw new Error('the provider is stopped');
      return provider;
    },
    setAccount(id, account) {
      accounts.set(id, account);
    },
    async signIn(authorizationUrl, accountId) {
      const jar = new Map<string, string>();
      const cookieHeader = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
      const remember = (response: Response) => {
        for (const line of response.headers.getSetCookie()) {
          const pair = line.split(';')[0] ?? '';
          const eq = pair.indexOf('=');
          jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
        }
      };
      let url = new URL(authorizationUrl);
      let init: RequestInit = {};
      for (let hop = 0; hop < 20; hop++) {
        if (!url.href.startsWith(issuer)) return url; // left the provider: the client's redirect URI
        const response = await fetch(url, {
          ...init,
          redirect: 'manual',
          headers: { ...init.headers, cookie: cookieHeader() },
        });
        remember(response);
        init = {};
        const location = response.headers.get('location');
        if (location) {
          url = new URL(location, url);
          continue;
        }
        const page = await response.text();
        const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
        const prompt = /name="prompt" value="([^"]+)"/.exec(page)?.[1];
        if (!action || !prompt)
          throw new Error(`unexpected provider page (${response.status}): ${page.slice(0, 300)}`);
        const form = new URLSearchParams({ prompt });
        if (prompt === 'login') {
          form.set('login', accountId);
          form.set('password', 'any');
        }
        url = new URL(action, url);
        init = {
          method: 'POST',
          body: form.toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        };
      }
      throw new Error('too many redirects at the provider');
    },
    async rotateKeys() {
      await close();
      await listen(port);
    },
    async stop() {
      await close();
    },
  };
}
