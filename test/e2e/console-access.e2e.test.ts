/**
 * The console's MQTT pages in a real Chromium against a real Warden with its embedded broker: access roles
 * (rules, reordering, the server's failing rule index, delete with force), "Test access", a user's access
 * roles, and the connected MQTT clients. Every page is screenshotted and checked with axe-core.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { type ConsolePages, consolePages, expectAccessible } from './console-actions.js';
import { ensureConsoleBuilt } from './console-build.js';
import { type ConsoleServer, ROOT_PASSWORD, STRONG_PASSWORD, startConsoleServer } from './console-server.js';

const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000 });

describe.skipIf(!chromiumAvailable())('console: MQTT access in Chromium', { timeout: 120_000 }, () => {
  let server: ConsoleServer;
  let broker: EmbeddedBroker;
  let browser: Browser;
  let pages: ConsolePages;
  const mqttClients: MqttClient[] = [];

  beforeAll(async () => {
    await ensureConsoleBuilt();
    server = await startConsoleServer();
    broker = await startLocalBroker(server.services);
    await server.createUser({ username: 'dora', role: 'viewer', kind: 'device' });
    await server.createUser({ username: 'vera', role: 'viewer' });
    browser = await launchChromium();
    pages = consolePages(browser, server.url);
  }, 240_000);

  afterEach(async () => {
    await pages.closeAll();
    await Promise.all(mqttClients.splice(0).map((client) => client.endAsync(true)));
  });

  afterAll(async () => {
    await browser?.close();
    await broker?.close();
    await server?.close();
  });

  const roleRow = (page: Page, name: string) => page.locator(`tr[data-access-role="${name}"]`);

  /** Runs "Test access" for `topic` and waits for the answer it asked for. */
  async function testAccess(
    page: Page,
    topic: string,
    expected: 'allow' | 'deny' | 'partial',
  ): Promise<string> {
    const panel = page.getByRole('region', { name: 'Test access' });
    await panel.getByLabel('Topic').fill(topic);
    await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/api/v1/access/explain')),
      panel.getByRole('button', { name: 'Test', exact: true }).click(),
    ]);
    const result = panel.getByTestId('explain-result');
    await poll(() => result.getAttribute('data-decision')).toBe(expected);
    return (await result.textContent()) ?? '';
  }

  it('creates an access role with two rules, shows a refused rule on its row, reorders and saves', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/access-roles');
    await page.getByRole('heading', { name: 'Access roles' }).waitFor();
    await page.getByRole('button', { name: 'New access role' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('plant-floor');
    await dialog.getByLabel('Description').fill('Sensors of the plant floor');

    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await dialog.getByLabel('Topic filter of rule 1').fill('plant/${username}/#');
    await dialog.getByLabel('Action of rule 1').selectOption('publish');
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await dialog.getByLabel('Permission of rule 2').selectOption('deny');
    await dialog.getByLabel('Action of rule 2').selectOption('publish');
    await dialog.getByLabel('Topic filter of rule 2').fill('plant/+/alarm');
    await dialog.getByLabel('QoS 1 in rule 2').check();
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await dialog.getByLabel('Topic filter of rule 3').fill('bad/#/topic');

    await dialog.getByRole('button', { name: 'Create access role' }).click();
    await dialog.locator('tr[data-rule-index="2"][data-invalid]').waitFor();
    expect(await dialog.locator('tr[data-invalid]').count()).toBe(1);
    await dialog.getByRole('button', { name: 'Remove rule 3' }).click();

    await dialog.getByRole('button', { name: 'Move rule 2 up' }).click();
    expect(await dialog.getByLabel('Topic filter of rule 1').inputValue()).toBe('plant/+/alarm');
    await expectAccessible(page, 'access-role-edit');
    await dialog.getByRole('button', { name: 'Create access role' }).click();
    await roleRow(page, 'plant-floor').waitFor();

    const stored = await server.services.accessRoles.get('plant-floor');
    expect(stored.rules).toEqual([
      { permission: 'deny', action: 'publish', topic: 'plant/+/alarm', qos: [1] },
      { permission: 'allow', action: 'publish', topic: 'plant/${username}/#' },
    ]);
    expect(await roleRow(page, 'plant-floor').getByTestId('rule-count').textContent()).toBe('2');
  });

  it("assigns the access role in the user's edit dialog and shows it in the users table", async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/users');
    const row = page.locator('tr[data-username="dora"]');
    await row.locator('[data-action="edit"]').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Access roles').click();
    await page.getByRole('option', { name: 'plant-floor' }).click();
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await poll(async () => (await server.services.users.get('dora')).accessRoles).toEqual(['plant-floor']);
    await poll(() => row.getByTestId('user-access-roles').textContent()).toBe('MQTT: plant-floor');
  });

  it('tests access: allowed by one rule, denied by the rule moved above it', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/access-roles');
    const panel = page.getByRole('region', { name: 'Test access' });
    await panel.getByLabel('Username').fill('dora');
    await panel.getByLabel('Client ID').fill('dora-1');

    expect(await testAccess(page, 'plant/dora/temperature', 'allow')).toContain(
      'Decided by rule 2 of plant-floor',
    );
    expect(await panel.getByTestId('explain-topic').textContent()).toBe(
      'Rule topic for this client: plant/dora/#',
    );

    await panel.getByLabel('QoS').selectOption('1');
    expect(await testAccess(page, 'plant/dora/alarm', 'deny')).toContain('Decided by rule 1 of plant-floor');
    await panel.scrollIntoViewIfNeeded();
    await expectAccessible(page, 'test-access');
  });

  it('tests access: a wide subscription under a carve-out is partially granted, naming the carve-out', async () => {
    await server.services.accessRoles.create(CLI_CONTEXT, {
      name: 'plant-viewer',
      rules: [
        { permission: 'deny', action: 'subscribe', topic: 'plant/+/secret' },
        { permission: 'allow', action: 'all', topic: 'plant/#' },
      ],
    });
    await server.createUser({
      username: 'erin',
      role: 'viewer',
      kind: 'device',
      accessRoles: ['plant-viewer'],
    });
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/access-roles');
    const panel = page.getByRole('region', { name: 'Test access' });
    await panel.getByLabel('Username').fill('erin');
    await panel.getByLabel('Operation').selectOption('subscribe');

    const text = await testAccess(page, 'plant/#', 'partial');
    expect(text).toContain('Partially granted: deliveries filtered');
    expect(text).toContain('Decided by rule 2 of plant-viewer');
    expect(await panel.getByTestId('explain-carve-outs').textContent()).toContain(
      'Rule 1 of plant-viewer: Deny Subscribe plant/+/secret',
    );
    expect(await testAccess(page, 'plant/a/secret', 'deny')).toContain('Decided by rule 1 of plant-viewer');
    expect(await testAccess(page, 'plant/a/status/#', 'allow')).toContain(
      'Decided by rule 2 of plant-viewer',
    );
    await expectAccessible(page, 'test-access-partial');
  });

  it('shows a viewer the access roles read-only', async () => {
    const page = await pages.signedIn('vera', STRONG_PASSWORD, '/access-roles');
    await roleRow(page, 'plant-floor').waitFor();
    expect(await page.getByRole('button', { name: 'New access role' }).count()).toBe(0);
    expect(
      await roleRow(page, 'plant-floor').locator('[data-action="edit"], [data-action="delete"]').count(),
    ).toBe(0);
    await roleRow(page, 'plant-floor').locator('[data-action="view"]').click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.getByLabel('Permission of rule 1').isDisabled()).toBe(true);
    expect(await dialog.getByRole('button', { name: 'Add rule' }).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
    await expectAccessible(page, 'access-roles-viewer');
  });

  it('lists a connected mqtt.js client and disconnects it', async () => {
    const client = await mqtt.connectAsync(broker.url as string, {
      username: 'dora',
      password: STRONG_PASSWORD,
      clientId: 'dora-sensor-1',
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    mqttClients.push(client);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));

    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/mqtt-clients');
    const row = page.locator('tr[data-client-id="dora-sensor-1"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('dora');
    await expectAccessible(page, 'mqtt-clients');

    await row.getByRole('button', { name: 'Disconnect dora-sensor-1' }).click();
    await closed;
    await poll(() => row.count()).toBe(0);
  });

  it('creates an HTTP rule (action, path, methods) and tests an HTTP request with it', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/access-roles');
    await page.getByRole('button', { name: 'New access role' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('dashboards');
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await dialog.getByLabel('Action of rule 1').selectOption('http');
    await dialog.getByLabel('Path of rule 1').fill('/grafana/**');
    await dialog.getByLabel('Methods of rule 1').click();
    await page.getByRole('option', { name: 'GET', exact: true }).click();
    await page.getByRole('option', { name: 'HEAD', exact: true }).click();
    await dialog.getByLabel('Name').click();
    await dialog.getByRole('button', { name: 'Add rule' }).click();
    await dialog.getByLabel('Action of rule 2').selectOption('http');
    await dialog.getByLabel('Path of rule 2').fill('/**/admin');
    await dialog.getByRole('button', { name: 'Create access role' }).click();
    // the server names the failing rule: ** only at the end
    await dialog.locator('tr[data-rule-index="1"][data-invalid]').waitFor();
    expect(await dialog.getByText('the path must start with /, without . or .. segments').count()).toBe(1);
    await dialog.getByRole('button', { name: 'Remove rule 2' }).click();
    await expectAccessible(page, 'access-role-http-rule');
    await dialog.getByRole('button', { name: 'Create access role' }).click();
    await roleRow(page, 'dashboards').waitFor();
    expect((await server.services.accessRoles.get('dashboards')).rules).toEqual([
      { permission: 'allow', action: 'http', methods: ['GET', 'HEAD'], path: '/grafana/**' },
    ]);

    await server.services.users.update(CLI_CONTEXT, 'vera', { accessRoles: ['dashboards'] });
    const panel = page.getByRole('region', { name: 'Test access' });
    await panel.getByLabel('Username').fill('vera');
    await panel.getByLabel('Operation').selectOption('http');
    await panel.getByLabel('Path').fill('/grafana//d/abc?orgId=1');
    const run = async (expected: 'allow' | 'deny'): Promise<string> => {
      await Promise.all([
        page.waitForResponse((response) => response.url().endsWith('/api/v1/access/explain')),
        panel.getByRole('button', { name: 'Test', exact: true }).click(),
      ]);
      const result = panel.getByTestId('explain-result');
      await poll(() => result.getAttribute('data-decision')).toBe(expected);
      return (await result.textContent()) ?? '';
    };
    expect(await run('allow')).toContain('Decided by rule 1 of dashboards');
    expect(await panel.getByTestId('explain-canonical-path').textContent()).toBe(
      'Path as the rules see it: /grafana/d/abc',
    );
    await panel.getByLabel('Method').selectOption('POST');
    expect(await run('deny')).toContain('No rule matched');
    await panel.getByLabel('Method').selectOption('GET');
    await panel.getByLabel('Path').fill('/grafana/%2e%2e/admin');
    expect(await run('deny')).toContain('The path is refused');
    await expectAccessible(page, 'test-access-http');
  });

  it('deletes an access role still held, after "Delete anyway"', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/access-roles');
    await roleRow(page, 'plant-floor').waitFor();
    await expectAccessible(page, 'access-roles');
    await roleRow(page, 'plant-floor').locator('[data-action="delete"]').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.getByRole('alert').waitFor();
    expect(await dialog.getByRole('alert').textContent()).toBe(
      'Users still hold this access role. Remove it from them first.',
    );
    await dialog.getByRole('button', { name: 'Delete anyway' }).click();
    await poll(() => roleRow(page, 'plant-floor').count()).toBe(0);
    expect((await server.services.users.get('dora')).accessRoles).toEqual([]);
  });
});
