import { describe, expect, it } from 'vitest';
import { usernameCandidates } from './sso-login.username.js';

describe('usernames of provisioned SSO users', () => {
  it('takes preferred_username (its local part for an address), then the email, each valid and then numbered', () => {
    const candidates = usernameCandidates({ preferredUsername: 'Zoë Müller', email: 'zoe.m@example.com' });
    expect(candidates.slice(0, 2)).toEqual(['Zoe-Muller', 'Zoe-Muller-2']);
    expect(candidates).toContain('zoe.m');
    expect(candidates).toContain('zoe.m-20');
    expect(
      usernameCandidates({ preferredUsername: 'anna@corp.example', email: 'anna@corp.example' })[0],
    ).toBe('anna');
  });

  it('falls back when nothing usable is left, and never exceeds 50 characters', () => {
    expect(usernameCandidates({ preferredUsername: '日本', email: 'x@example.com' })[0]).toBe('sso-user');
    for (const name of usernameCandidates({ email: `${'a'.repeat(80)}@example.com` })) {
      expect(name).toMatch(/^[A-Za-z0-9_.-]{3,50}$/);
    }
  });
});
