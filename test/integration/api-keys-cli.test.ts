import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openRuntime } from '../../src/runtime.js';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';

describe('warden api-keys CLI', () => {
  let env: Record<string, string>;
  let remove: () => void;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-api-keys-cli-'));
  });
  afterAll(() => remove());

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);

  /** Whether the key is accepted now, asked of the same services a server builds on this data directory. */
  async function accepted(key: string): Promise<boolean> {
    const runtime = await openRuntime(loadConfig(env));
    try {
      await runtime.services.apiKeys.authenticate(key, '192.0.2.1');
      return true;
    } catch (error) {
      expect(error).toMatchObject({ code: 'auth.invalid_api_key' });
      return false;
    } finally {
      await runtime.close();
    }
  }

  it('creates a key printed once, lists, disables, enables and deletes it, each audited as cli', async () => {
    const user = ['svc-export', '--kind', 'service', '--role', 'viewer', '--scopes', 'log_management'];
    expect((await cli('users', 'create', ...user)).code).toBe(0);
    const created = await cli(
      'api-keys',
      'create',
      'nightly-export',
      '--owner',
      'svc-export',
      '--role',
      'viewer',
      '--scopes',
      'log_management',
      '--json',
    );
    expect(created.code, created.err).toBe(0);
    const key = JSON.parse(created.out) as { id: string; key: string; owner: string; createdBy: string };
    expect(key).toMatchObject({ owner: 'svc-export', createdBy: 'cli', scopes: ['log_management'] });
    expect(key.key).toMatch(/^wdn_/);
    expect(await accepted(key.key)).toBe(true);

    const human = await cli('api-keys', 'create', 'ad-hoc', '--owner', 'svc-export', '--role', 'viewer');
    expect(human.code, human.err).toBe(0);
    expect(human.out).toMatch(/API key \(shown once, store it now\): wdn_[0-9a-f]{24}_\S{43}\n/);

    const listed = await cli('api-keys', 'list', '--owner', 'svc-export', '--json');
    const list = JSON.parse(listed.out) as { total: number; items: Array<{ id: string; name: string }> };
    expect(list.total).toBe(2);
    expect(listed.out).not.toContain(key.key);
    expect((await cli('api-keys', 'list')).out).toContain('nightly-export');

    expect((await cli('api-keys', 'disable', key.id, '--json')).out).toContain('"enabled": false');
    expect(await accepted(key.key)).toBe(false);
    expect((await cli('api-keys', 'enable', key.id)).code).toBe(0);
    expect(await accepted(key.key)).toBe(true);
    expect((await cli('api-keys', 'delete', key.id)).code).toBe(0);
    expect(await accepted(key.key)).toBe(false);

    const runtime = await openRuntime(loadConfig(env));
    try {
      const events = await runtime.services.audit.list({ target: `api_key:${key.id}` }, 1, 25);
      expect(events.items.map((e) => [e.action, e.actor.name])).toEqual([
        ['api_key.delete', 'cli'],
        ['api_key.update', 'cli'],
        ['api_key.update', 'cli'],
        ['api_key.create', 'cli'],
      ]);
    } finally {
      await runtime.close();
    }
  });

  it('fails with the code: no owner, an unknown id, more than the owner holds', async () => {
    const noOwner = await cli('api-keys', 'create', 'x', '--role', 'viewer');
    expect(noOwner.code).toBe(1);
    expect(noOwner.err).toContain('api_key.owner_required');
    const unknown = await cli('api-keys', 'delete', 'feedfeedfeedfeedfeedfeed', '--json');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.err)).toMatchObject({ code: 'api_key.not_found', status: 404 });
    const over = await cli('api-keys', 'create', 'x', '--owner', 'svc-export', '--role', 'admin');
    expect(over.code).toBe(1);
    expect(over.err).toContain('api_key.exceeds_owner');
    expect((await cli('api-keys', 'bogus')).code).toBe(2);
  });
});
