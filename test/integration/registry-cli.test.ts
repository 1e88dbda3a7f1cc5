import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import type { RegistrationInput } from '../../src/modules/registry/registry.schemas.js';
import { openRuntime } from '../../src/runtime.js';
import type { Services } from '../../src/services.js';
import { type CliResult, createCliDataDir, runCliCaptured } from '../helpers/cli.js';

describe('warden registry CLI', () => {
  let env: Record<string, string>;
  let remove: () => void;

  beforeAll(async () => {
    ({ env, remove } = await createCliDataDir('warden-registry-cli-'));
    await withServices((services) =>
      services.accessRoles.create(CLI_CONTEXT, {
        name: 'sensor',
        rules: [{ permission: 'allow', action: 'publish', topic: 'dt/${username}/up' }],
      }),
    );
  });
  afterAll(() => remove());

  const cli = (...argv: string[]): Promise<CliResult> => runCliCaptured(env, argv);
  const json = async (...argv: string[]): Promise<Record<string, unknown>> => {
    const result = await cli(...argv, '--json');
    expect(result.code, result.err).toBe(0);
    return JSON.parse(result.out) as Record<string, unknown>;
  };

  /** Runs `work` on the services a server builds on this data directory (a device, the audit log). */
  async function withServices<T>(work: (services: Services) => Promise<T>): Promise<T> {
    const runtime = await openRuntime(loadConfig(env));
    try {
      return await work(runtime.services);
    } finally {
      await runtime.close();
    }
  }

  const ask = (input: RegistrationInput) =>
    withServices((services) =>
      services.registry.submit({ input, source: 'rest', meta: { ip: '192.0.2.7', requestId: '' } }),
    );

  it('shows the state, unlocks (at most 60 minutes) and locks, audited as cli', async () => {
    expect((await cli('registry', 'status')).out).toContain('Registration: locked');
    const unlocked = await json('registry', 'unlock', '--minutes', '10');
    expect(unlocked).toMatchObject({ unlocked: true, pendingCount: 0 });
    const tooLong = await cli('registry', 'unlock', '--minutes', '61');
    expect(tooLong.code).toBe(1);
    expect(tooLong.err).toContain('request.invalid');
    expect((await cli('registry', 'unlock')).code).toBe(1);
    expect((await cli('registry', 'lock')).out).toContain('Registration: locked');
    const events = await withServices((services) => services.audit.list({ actor: 'cli' }, 1, 50));
    expect(events.items.filter((e) => e.target === 'registry').map((e) => e.action)).toEqual([
      'registry.lock',
      'registry.unlock',
    ]);
  });

  it('creates an enrolment token printed once, lists its uses, and revokes it', async () => {
    const created = await json(
      'registry',
      'tokens',
      'create',
      '--name',
      'batch 7',
      '--uses',
      '2',
      '--expires-in',
      '3d',
    );
    const secret = created.secret as string;
    const token = created.token as { id: string; maxUses: number; expiresAt: string };
    expect(secret).toMatch(/^wde_[0-9a-f]{16}_/);
    expect(token.maxUses).toBe(2);
    expect(Date.parse(token.expiresAt) - Date.now()).toBeGreaterThan(3 * 86_400_000 - 60_000);
    const human = await cli('registry', 'tokens', 'create');
    expect(human.out).toMatch(/Enrolment token \(shown once, store it now\): wde_/);

    await ask({ username: 'plc-cli-0', token: secret });
    const list = await json('registry', 'tokens', 'list');
    expect(list.items).toContainEqual(
      expect.objectContaining({ id: token.id, usesLeft: 1, name: 'batch 7' }),
    );
    expect(JSON.stringify(list)).not.toContain(secret.slice(21));
    expect((await cli('registry', 'tokens', 'revoke', token.id)).code).toBe(0);
    await expect(ask({ username: 'plc-cli-1', token: secret })).rejects.toMatchObject({
      code: 'registry.token_invalid',
    });
    expect((await cli('registry', 'tokens', 'create', '--expires-in', '7x')).code).toBe(2);
    expect((await cli('registry', 'tokens', 'rotate')).code).toBe(2);
    expect((await cli('registry', 'tokens', 'revoke', '0123456789abcdef')).err).toContain(
      'registry.token_not_found',
    );
  });

  it('lists requests, approves with repeated --access-role, rejects with a reason', async () => {
    await cli('registry', 'unlock', '--minutes', '5');
    const first = await ask({ username: 'plc-cli-a', clientId: 'a-1' });
    const second = await ask({ username: 'plc-cli-b' });
    const pending = await json('registry', 'requests', '--status', 'pending');
    const ids = (pending.items as Array<{ id: string }>).map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([first.requestId, second.requestId]));
    expect((await cli('registry', 'requests')).out).toContain('plc-cli-a');

    const approved = await json('registry', 'approve', first.requestId, '--access-role', 'sensor');
    expect(approved).toMatchObject({ status: 'approved', accessRoles: ['sensor'], decidedBy: 'cli' });
    const user = await withServices((services) => services.users.get('plc-cli-a'));
    expect(user).toMatchObject({ kind: 'device', role: 'viewer', scopes: [], accessRoles: ['sensor'] });

    const rejected = await json('registry', 'reject', second.requestId, '--reason', 'not ours');
    expect(rejected).toMatchObject({ status: 'rejected', reason: 'not ours' });
    const again = await cli('registry', 'approve', second.requestId);
    expect(again.code).toBe(1);
    expect(again.err).toContain('registry.request_decided');
    expect((await cli('registry', 'approve', first.requestId, '--access-role', 'nope')).code).toBe(1);
    expect((await cli('registry', 'requests', '--status', 'waiting')).err).toContain('request.invalid');
  });

  it('changes the limits, keeping those not given', async () => {
    const state = await json('registry', 'limits', '--max-pending', '5');
    expect(state.limits).toEqual({ maxPending: 5, requestExpiryHours: 24, certificateValidityDays: 365 });
    const next = await json('registry', 'limits', '--certificate-validity-days', '30');
    expect(next.limits).toEqual({ maxPending: 5, requestExpiryHours: 24, certificateValidityDays: 30 });
    expect((await cli('registry', 'limits', '--max-pending', '0')).code).toBe(1);
  });

  it('documents every subcommand and option in --help', async () => {
    const group = await cli('registry', '--help');
    for (const sub of ['status', 'unlock', 'lock', 'requests', 'approve', 'reject', 'tokens', 'limits'])
      expect(group.out).toContain(`warden registry ${sub}`);
    expect((await cli('registry', 'approve', '--help')).out).toContain('--access-role R…');
    expect((await cli('--help')).out).toContain('registry');
  });
});
