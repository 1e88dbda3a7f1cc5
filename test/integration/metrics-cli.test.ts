import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';

describe('warden scrape-tokens and the apiAllowFrom break-glass', () => {
  let env: Record<string, string>;
  let remove: () => void;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-metrics-cli-'));
  });
  afterAll(() => remove());

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);

  it('creates a token printing its secret once, lists it without the secret, deletes it by name', async () => {
    const created = await cli('scrape-tokens', 'create', 'prometheus', '--description', 'central scraper');
    expect(created.code, created.err).toBe(0);
    const secret = /^(wdm_[0-9a-f]{16}_\S{24})$/m.exec(created.out)?.[1];
    expect(secret).toBeDefined();

    const listed = await cli('scrape-tokens', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.out)).toMatchObject({
      total: 1,
      items: [{ name: 'prometheus', description: 'central scraper', createdBy: 'cli', lastUsedAt: null }],
    });
    expect(listed.out).not.toContain((secret as string).slice(-24));
    expect((await cli('scrape-tokens', 'list')).out).toContain('prometheus');

    const past = await cli('scrape-tokens', 'create', 'late', '--expires-at', '2001-01-01T00:00:00Z');
    expect(past.code).not.toBe(0);
    expect(past.err).toContain('scrape_token.invalid_expiry');

    const deleted = await cli('scrape-tokens', 'delete', 'prometheus');
    expect(deleted.code).toBe(0);
    expect(JSON.parse((await cli('scrape-tokens', 'list', '--json')).out).total).toBe(0);
    const again = await cli('scrape-tokens', 'delete', 'prometheus');
    expect(again.code).not.toBe(0);
    expect(again.err).toContain('scrape_token.not_found');
  });

  it('sets apiAllowFrom without the lock-out check (the break-glass on the host), and empties it with none', async () => {
    const set = await cli('settings', 'set', 'apiAllowFrom', '10.0.0.0/8,192.168.1.5,2001:db8::/32');
    expect(set.code, set.err).toBe(0);
    expect((await cli('settings', 'get', 'apiAllowFrom')).out).toBe('10.0.0.0/8,192.168.1.5,2001:db8::/32\n');
    const invalid = await cli('settings', 'set', 'apiAllowFrom', '10.0.0.0/8,not-a-network');
    expect(invalid.code).not.toBe(0);
    expect(invalid.err).toContain('settings.invalid');
    const cleared = await cli('settings', 'set', 'apiAllowFrom', 'none');
    expect(cleared.code).toBe(0);
    expect((await cli('settings', 'get', 'apiAllowFrom')).out).toBe('none\n');
  });
});
