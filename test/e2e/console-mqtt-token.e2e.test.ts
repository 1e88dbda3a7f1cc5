/**
 * The profile's MQTT token card in a real Chromium against a real Warden: a user picks a lifetime, creates a
 * token shown once with its expiry and a mosquitto_pub example, and the token then connects a real mqtt.js client
 * to the embedded broker as that user.
 */
import { decodeJwt } from 'jose';
import mqtt from 'mqtt';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../src/integrations/aedes/embedded-broker.js';
import { startLocalBroker } from '../helpers/local-broker.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { type ConsolePages, consolePages, expectAccessible } from './console-actions.js';
import { ensureConsoleBuilt } from './console-build.js';
import { type ConsoleServer, STRONG_PASSWORD, startConsoleServer } from './console-server.js';

describe.skipIf(!chromiumAvailable())(
  'console: MQTT token on the profile in Chromium',
  { timeout: 120_000 },
  () => {
    let server: ConsoleServer;
    let broker: EmbeddedBroker;
    let browser: Browser;
    let pages: ConsolePages;

    beforeAll(async () => {
      await ensureConsoleBuilt();
      server = await startConsoleServer();
      await server.createUser({ username: 'vera', role: 'viewer' });
      broker = await startLocalBroker(server.services);
      browser = await launchChromium();
      pages = consolePages(browser, server.url);
    }, 240_000);

    afterAll(async () => {
      await pages?.closeAll();
      await browser?.close();
      await broker?.close();
      await server?.close();
    });

    it('creates a token of the chosen lifetime, shown once with an example, that connects to MQTT', async () => {
      const page = await pages.signedIn('vera', STRONG_PASSWORD, '/profile');
      await page.getByRole('heading', { name: 'MQTT token' }).waitFor();
      await page.getByRole('textbox', { name: 'Valid for' }).click();
      await page.getByRole('option', { name: '30 minutes' }).click();
      await page.getByRole('button', { name: 'Create token' }).click();
      const dialog = page.getByRole('dialog');
      const shown = dialog.getByTestId('secret-shown-once');
      await shown.waitFor();
      const token = (await shown.textContent()) ?? '';
      const claims = decodeJwt(token);
      expect((claims.exp as number) - (claims.iat as number)).toBe(1800);
      await dialog.getByText('Valid until').waitFor();
      const example = (await dialog.getByTestId('mqtt-token-example').textContent()) ?? '';
      expect(example).toContain(`-u 'vera' -P '${token}'`);
      await dialog.getByRole('button', { name: 'Copy token' }).waitFor();
      await expectAccessible(page, 'profile-mqtt-token');
      await dialog.getByRole('button', { name: 'Done' }).click();
      await dialog.waitFor({ state: 'detached' });
      expect(await page.content()).not.toContain(token);

      const client = await mqtt.connectAsync(broker.url as string, {
        username: 'vera',
        password: token,
        clientId: 'vera-console-token',
        reconnectPeriod: 0,
        protocolVersion: 4,
      });
      try {
        expect(client.connected).toBe(true);
        expect(server.services.mqttConnections.ofUser('vera')).toHaveLength(1);
      } finally {
        await client.endAsync(true);
      }
    });
  },
);
