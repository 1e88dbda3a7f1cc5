import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_BYTES, recogniseJwt } from './jwt-shape.js';
import { WardenTokenKey } from './warden-token.js';

const b64 = (value: string) => Buffer.from(value).toString('base64url');

describe('recogniseJwt (before any hashing: which MQTT passwords are tokens)', () => {
  it('recognises signed and unsigned compact JWTs', async () => {
    const { token } = await new WardenTokenKey('k'.repeat(32)).sign('u1', Date.now(), 60);
    expect(recogniseJwt(Buffer.from(token))).toBe(token);
    const unsigned = `${b64('{"alg":"none"}')}.${b64('{"sub":"x"}')}.`;
    expect(recogniseJwt(Buffer.from(unsigned))).toBe(unsigned);
  });

  it('leaves passwords alone, however many dots or base64url characters they have', () => {
    for (const password of [
      'Str0ng-Passw0rd!',
      'a.b.c',
      'eyJ.eyJ.x',
      `${b64('{"typ":"JWT"}')}.${b64('{}')}.sig`, // a JSON header without alg
      `${b64('["alg"]')}.${b64('{}')}.sig`,
      `${b64('{"alg":"HS256"}')}.${b64('{}')}`, // two segments
      `${b64('{"alg":"HS256"}')}.${b64('{}')}.sig.more`,
      `${b64('{"alg":"HS256"}')}.e+J9.sig`, // not base64url
      '',
    ])
      expect(recogniseJwt(Buffer.from(password)), password).toBeNull();
  });

  it('does not take an over-long "token" (it is refused as a password, unparsed)', () => {
    const long = `${b64('{"alg":"RS256"}')}.${'A'.repeat(MAX_TOKEN_BYTES)}.sig`;
    expect(recogniseJwt(Buffer.from(long))).toBeNull();
  });
});
