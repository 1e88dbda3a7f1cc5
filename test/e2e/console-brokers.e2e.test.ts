/**
 * The console's Brokers page in a real Chromium against a real Warden running its integrations and a real
 * Mosquitto 2 with dynamic security: adding integrations of two kinds (with the form's own and the server's
 * field errors), live status, write-only secrets that survive an edit, "Sync now" with its dry-run diff
 * repairing drift made behind Warden's back, an unreachable broker, removal, and who may see the page.
 */
import pino from 'pino';
import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DynsecClient } from '../../src/integrations/mosquitto-dynsec/dynsec-client.js';
import {
  dynsecAdmin,
  type MosquittoInstance,
  mosquittoPlugin,
  startMosquitto,
} from '../helpers/mosquitto.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { type ConsolePages, consolePages, expectAccessible } from './console-actions.js';
import { ensureConsoleBuilt } from './console-build.js';
import { type ConsoleServer, ROOT_PASSWORD, STRONG_PASSWORD, startConsoleServer } from './console-server.js';

const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000 });
const plugin = mosquittoPlugin();

describe.skipIf(!chromiumAvailable() || plugin === null)(
  'console: broker integrations in Chromium',
  { timeout: 120_000 },
  () => {
    let server: ConsoleServer;
    let mosquitto: MosquittoInstance;
    let browser: Browser;
    let pages: ConsolePages;

    beforeAll(async () => {
      await ensureConsoleBuilt();
      mosquitto = await startMosquitto(plugin as string);
      server = await startConsoleServer();
      await server.services.brokers.start({ logger: pino({ level: 'silent' }) });
      await server.createUser({ username: 'sensor-1', role: 'viewer', kind: 'device' });
      await server.createUser({ username: 'otto', role: 'operator' });
      browser = await launchChromium();
      pages = consolePages(browser, server.url);
    }, 240_000);

    afterEach(async () => {
      await pages.closeAll();
    });

    afterAll(async () => {
      await browser?.close();
      await server?.services.brokers.stop();
      await server?.close();
      await mosquitto?.stop();
    });

    const row = (page: Page, name: string) => page.locator(`tr[data-broker="${name}"]`);
    const stateOf = (page: Page, name: string) =>
      row(page, name).getByTestId('broker-state').getAttribute('data-state');

    async function brokersPage(): Promise<Page> {
      const page = await pages.signedIn('admin', ROOT_PASSWORD, '/brokers');
      await page.getByRole('heading', { name: 'Brokers' }).waitFor();
      return page;
    }

    /** Changes made directly in Mosquitto, behind Warden's back. */
    async function drift(commands: Parameters<DynsecClient['execute']>[0]): Promise<void> {
      const admin = await dynsecAdmin(mosquitto);
      await admin.execute(commands);
      await admin.close();
    }

    it('adds a Mosquitto integration: form errors first, then connected, synced, with pending passwords', async () => {
      const page = await brokersPage();
      await page.getByTestId('empty-state').waitFor();
      await page.getByRole('button', { name: 'Add broker' }).first().click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Name').fill('plant-mosquitto');
      await dialog.getByLabel('Broker URL').fill('http://mosquitto');
      await dialog.getByLabel('Dynamic-security admin').fill(mosquitto.adminUsername);
      await dialog.getByRole('button', { name: 'Add broker' }).click();
      await dialog.getByText('Enter a URL like mqtt://mosquitto:1883.').waitFor();
      await dialog.getByText('Required.').waitFor();
      expect(await server.services.brokers.list()).toEqual({ items: [], total: 0 });

      await dialog.getByLabel('Broker URL').fill(mosquitto.url);
      await dialog.getByLabel('Admin password', { exact: true }).fill(mosquitto.adminPassword);
      await expectAccessible(page, 'broker-form-mosquitto');
      await dialog.getByRole('button', { name: 'Add broker' }).click();
      await row(page, 'plant-mosquitto').waitFor();
      await poll(() => stateOf(page, 'plant-mosquitto')).toBe('connected');
      // sensor-1 and otto were created before the integration: Warden cannot know their broker passwords.
      await poll(() => row(page, 'plant-mosquitto').getByTestId('pending-passwords').textContent()).toBe(
        'Users without a broker password: 3',
      );
      // The first full reconcile ran at start: the row shows when (the status is re-read every 10 s).
      await poll(() => row(page, 'plant-mosquitto').textContent()).not.toContain('Never');
      await expectAccessible(page, 'brokers');
    });

    it('keeps the write-only admin password through an edit and never shows it', async () => {
      const page = await brokersPage();
      // Every brokers API answer the page receives, read before the page closes.
      const bodies: Promise<string>[] = [];
      const collect = (response: Response): void => {
        if (response.url().includes('/api/v1/brokers')) bodies.push(response.text());
      };
      page.on('response', collect);
      await row(page, 'plant-mosquitto').locator('[data-action="edit"]').click();
      const dialog = page.getByRole('dialog');
      const password = dialog.getByLabel('Admin password', { exact: true });
      expect(await password.inputValue()).toBe('');
      expect(await password.getAttribute('placeholder')).toBe('Leave empty to keep the stored value');
      await dialog.getByText('stored, never shown').waitFor();
      await dialog.getByLabel('Command timeout (ms)').fill('3000');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await dialog.waitFor({ state: 'detached' });

      const saved = await server.services.brokers.get('plant-mosquitto');
      expect(saved.config.timeoutMs).toBe(3000);
      expect(saved.secrets).toEqual(['adminPassword']);
      // The integration restarted with the kept password: still connected.
      await poll(() => stateOf(page, 'plant-mosquitto')).toBe('connected');
      expect(await page.content()).not.toContain(mosquitto.adminPassword);
      page.off('response', collect);
      expect((await Promise.all(bodies)).join('\n')).not.toContain(mosquitto.adminPassword);
    });

    it('"Sync now" previews the drift made in Mosquitto, applies it, and is then in step', async () => {
      await drift([
        { command: 'createClient', username: 'intruder', groups: [{ groupname: 'warden' }] },
        { command: 'disableClient', username: 'sensor-1' },
      ]);
      const page = await brokersPage();
      await row(page, 'plant-mosquitto').locator('[data-action="sync"]').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByTestId('sync-changes').waitFor();
      const planned = await dialog.getByTestId('sync-changes').locator('tbody tr').allTextContents();
      expect(planned.some((text) => text.startsWith('delete') && text.includes('intruder'))).toBe(true);
      expect(planned.some((text) => text.startsWith('enable') && text.includes('sensor-1'))).toBe(true);
      await expectAccessible(page, 'broker-sync');
      // A dry run changes nothing.
      await dialog.getByRole('button', { name: 'Compare again' }).click();
      await poll(() => dialog.getByTestId('sync-changes').locator('tbody tr').count()).toBe(planned.length);

      await dialog.getByRole('button', { name: 'Sync now' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByText(`plant-mosquitto synced. Changes applied: ${planned.length}`).waitFor();
      await row(page, 'plant-mosquitto').locator('[data-action="sync"]').click();
      await page.getByRole('dialog').getByTestId('sync-in-step').waitFor();
    });

    it('adds an EMQX hook integration with a generated token; the server refuses a bad network on its field', async () => {
      const page = await brokersPage();
      await page.getByRole('button', { name: 'Add broker' }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Name').fill('emqx-prod');
      await dialog.getByText('EMQX', { exact: true }).click();
      expect(await dialog.getByTestId('hook-endpoints').textContent()).toContain(
        `${server.url}/api/v1/hooks/emqx/authz`,
      );
      await dialog.getByLabel('Bearer token', { exact: true }).fill('too-short');
      await dialog.getByRole('button', { name: 'Add broker' }).click();
      await dialog.getByText('Use at least 16 characters, or generate a token.').waitFor();
      await dialog.getByRole('button', { name: 'Generate token' }).click();
      const token = await dialog.getByLabel('Bearer token', { exact: true }).inputValue();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await dialog.getByRole('button', { name: 'Configuration for the broker' }).click();
      const snippet = await dialog.getByTestId('broker-snippet').textContent();
      expect(snippet).toContain(`url = "${server.url}/api/v1/hooks/emqx/authz"`);
      expect(snippet).toContain(`"authorization" = "Bearer ${token}"`);
      // Warden's mqtt.denyAction (the default here), read from the security settings.
      expect(snippet).toContain('deny_action = ignore ');

      // Looks like an address range to the form; the server knows better and names the field.
      const networks = dialog.getByLabel('Allowed networks');
      await networks.fill('999.1.1.1/8');
      await networks.press('Enter');
      await dialog.getByRole('button', { name: 'Add broker' }).click();
      await dialog.getByText('Warden does not accept this value.').waitFor();
      await dialog.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
      await expectAccessible(page, 'broker-form-emqx');
      await networks.press('Backspace');
      await dialog.getByRole('button', { name: 'Add broker' }).click();
      await row(page, 'emqx-prod').waitFor();
      await poll(() => stateOf(page, 'emqx-prod')).toBe('listening');

      const stored = await server.services.brokers.get('emqx-prod');
      expect(stored.secrets).toEqual(['hook.token']);
      // The server's own default network (loopback), as the form offers it.
      expect(stored.config.hook).toMatchObject({ allowFrom: ['127.0.0.0/8', '::1/128'] });
      const answer = await fetch(`${server.url}/api/v1/hooks/emqx/authz`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ username: 'sensor-1', clientid: 's1', topic: 'x', action: 'publish' }),
      });
      expect(answer.status).toBe(200);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await poll(() => row(page, 'emqx-prod').getByTestId('hook-requests').textContent()).toBe(
        'Requests answered: 1',
      );
    });

    it('shows an unreachable broker in the sync dialog and in the status', async () => {
      await mosquitto.stop();
      const page = await brokersPage();
      await poll(() => stateOf(page, 'plant-mosquitto')).toBe('disconnected');
      await row(page, 'plant-mosquitto').getByTestId('broker-last-error').waitFor();
      await row(page, 'plant-mosquitto').locator('[data-action="sync"]').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('The broker could not be reached or refused the request.').waitFor();
      expect(await dialog.getByTestId('sync-cause').textContent()).toContain('plant-mosquitto');
      await expectAccessible(page, 'broker-unreachable');
    });

    it('removes an integration after confirmation', async () => {
      const page = await brokersPage();
      await row(page, 'emqx-prod').locator('[data-action="delete"]').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByText('Warden stops answering hooks for emqx-prod').waitFor();
      await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
      await poll(() => row(page, 'emqx-prod').count()).toBe(0);
      expect((await server.services.brokers.list()).items.map((broker) => broker.name)).toEqual([
        'plant-mosquitto',
      ]);
    });

    it('is not offered to an operator, who lacks System Config', async () => {
      const page = await pages.signedIn('otto', STRONG_PASSWORD, '/access-roles');
      expect(await page.getByRole('link', { name: 'Brokers' }).count()).toBe(0);
      await page.goto(`${server.url}/brokers`);
      await page.getByText('Your role and permissions do not include this page.', { exact: false }).waitFor();
      expect(await page.getByTestId('brokers-table').count()).toBe(0);
    });
  },
);
