import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { SsoProviderConfig } from '../sso/sso-provider-config.js';
import { ProviderKeys, ProviderUnavailable } from './provider-keys.js';

const provider = { name: 'corp', issuer: 'https://id.example.com', clientId: 'warden' } as SsoProviderConfig;

/** A discovery whose metadata names `jwksUri`, or that fails; counts its calls. */
function discovery(jwksUri: string | null) {
  const calls = { n: 0 };
  return {
    calls,
    configuration: async () => {
      calls.n++;
      if (jwksUri === null) throw new Error('connect ECONNREFUSED');
      return { serverMetadata: () => ({ jwks_uri: jwksUri }) } as never;
    },
  };
}

describe('ProviderKeys', () => {
  it('takes key sets over https, and over http on loopback hosts only', async () => {
    const clock = new ManualClock();
    for (const uri of ['https://id.example.com/jwks', 'http://127.0.0.1:9/jwks', 'http://localhost/jwks'])
      await expect(
        new ProviderKeys({ clock, discovery: discovery(uri) }).keysFor(provider),
      ).resolves.toBeTypeOf('function');
    for (const uri of ['http://id.example.com/jwks', 'ftp://id.example.com/jwks', 'not a url'])
      await expect(
        new ProviderKeys({ clock, discovery: discovery(uri) }).keysFor(provider),
      ).rejects.toBeInstanceOf(ProviderUnavailable);
  });

  it('reuses one key set per provider while its jwks_uri stays the same', async () => {
    const keys = new ProviderKeys({
      clock: new ManualClock(),
      discovery: discovery('https://id.example.com/jwks'),
    });
    expect(await keys.keysFor(provider)).toBe(await keys.keysFor(provider));
  });

  it('does not ask an unreachable provider again until the retry time has passed', async () => {
    const clock = new ManualClock();
    const down = discovery(null);
    const keys = new ProviderKeys({ clock, discovery: down, retryAfterFailureMs: 10_000 });
    for (let i = 0; i < 5; i++)
      await expect(keys.keysFor(provider)).rejects.toBeInstanceOf(ProviderUnavailable);
    expect(down.calls.n).toBe(1);
    clock.advance(10_000);
    await expect(keys.keysFor(provider)).rejects.toBeInstanceOf(ProviderUnavailable);
    expect(down.calls.n).toBe(2);
  });

  it('an unreachable key set counts as a failure of the provider, an unknown key id does not', async () => {
    const clock = new ManualClock();
    let fetches = 0;
    const keys = new ProviderKeys({
      clock,
      discovery: discovery('https://id.example.com/jwks'),
      cooldownMs: 0,
      fetch: async () => {
        fetches++;
        return fetches === 1
          ? new Response('down', { status: 503 })
          : Response.json({ keys: [{ kty: 'oct', k: 'AAAA', kid: 'other', alg: 'HS256' }] });
      },
    });
    const resolve = await keys.keysFor(provider);
    await expect(
      resolve({ alg: 'RS256', kid: 'k1' }, { payload: '', signature: '' } as never),
    ).rejects.toBeInstanceOf(ProviderUnavailable);
    await expect(keys.keysFor(provider)).rejects.toBeInstanceOf(ProviderUnavailable);
    clock.advance(10_000);
    const again = await keys.keysFor(provider);
    await expect(
      again({ alg: 'RS256', kid: 'k1' }, { payload: '', signature: '' } as never),
    ).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    await expect(keys.keysFor(provider)).resolves.toBe(again);
  });
});
