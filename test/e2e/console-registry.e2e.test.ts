/**
 * The console's client registry in a real Chromium against a real Warden: unlocking with a live countdown, a
 * device asking over REST, approving it with an access role (the request then leaves the list and the device
 * gets its credentials), locking again, enrolment tokens shown once and revoked, and who may see the page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { type ConsolePages, consolePages, expectAccessible } from './console-actions.js';
import { ensureConsoleBuilt } from './console-build.js';
import { type ConsoleServer, ROOT_PASSWORD, STRONG_PASSWORD, startConsoleServer } from './console-server.js';

describe.skipIf(!chromiumAvailable())('console: client registry in Chromium', { timeout: 120_000 }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let pages: ConsolePages;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    server = await startConsoleServer();
    await server.services.accessRoles.create(CLI_CONTEXT, {
      name: 'sensor',
      rules: [{ permission: 'allow', action: 'publish', topic: 'dt/${username}/up' }],
    });
    await server.createUser({ username: 'olga', role: 'operator', scopes: ['log_management'] });
    browser = await launchChromium();
    pages = consolePages(browser, server.url);
  }, 240_000);

  afterEach(async () => {
    await pages.closeAll();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A device's request over REST, as a device would send it (no session). */
  async function deviceRequest(body: object): Promise<{ requestId: string; pollSecret: string }> {
    const response = await fetch(`${server.url}/api/v1/registry/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    return (await response.json()) as { requestId: string; pollSecret: string };
  }

  async function registryPage(): Promise<Page> {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/registry');
    await page.getByRole('heading', { name: 'Client registry' }).waitFor();
    return page;
  }

  it('unlocks with a countdown, approves a device’s REST request with an access role, and the request is gone', async () => {
    const page = await registryPage();
    const status = page.getByTestId('registry-status');
    await expect.poll(() => status.textContent()).toBe('locked');
    await page.getByTestId('empty-state').first().waitFor();
    await expectAccessible(page, 'registry-locked');

    await page.getByTestId('unlock-minutes').fill('5');
    await page.getByRole('button', { name: 'Unlock', exact: true }).click();
    await expect.poll(() => status.textContent()).toBe('unlocked');
    const countdown = page.getByTestId('registry-countdown');
    const first = (await countdown.textContent()) ?? '';
    expect(first).toMatch(/^[45]:\d\d$/);
    // Live: it counts down by itself.
    await expect.poll(() => countdown.textContent(), { timeout: 5_000 }).not.toBe(first);

    const { requestId, pollSecret } = await deviceRequest({
      username: 'plc-web',
      clientId: 'plc-web-1',
      metadata: { site: 'hall 4' },
    });
    await page.getByRole('button', { name: 'Refresh' }).click();
    const row = page.locator('tr[data-request="plc-web"]');
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    expect(text).toContain('plc-web-1');
    expect(text).toContain('127.0.0.1');
    expect(text).toContain('"site":"hall 4"');
    expect(text).toContain('password');
    const badge = page.getByRole('navigation').getByTestId('registry-pending');
    await expect.poll(() => badge.textContent()).toBe('1');
    await expectAccessible(page, 'registry-pending');

    await row.locator('[data-action="approve"]').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Approve plc-web?').waitFor();
    await expectAccessible(page, 'registry-approve');
    await dialog.getByTestId('approve-access-roles').click();
    await page.getByRole('option', { name: 'sensor' }).click();
    // A click beside the picker closes its list, which would cover the buttons.
    await dialog.getByText('Approve plc-web?').click();
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await dialog.waitFor({ state: 'detached' });
    await row.waitFor({ state: 'detached' });
    await expect.poll(() => badge.count()).toBe(0);

    const user = await server.services.users.get('plc-web');
    expect(user).toMatchObject({ kind: 'device', accessRoles: ['sensor'] });
    const polled = await fetch(`${server.url}/api/v1/registry/requests/${requestId}`, {
      headers: { authorization: `Bearer ${pollSecret}` },
    });
    expect(((await polled.json()) as { credentials: { password: string } }).credentials.password).toEqual(
      expect.any(String),
    );

    await page.getByRole('button', { name: 'Lock now' }).click();
    await expect.poll(() => status.textContent()).toBe('locked');
    expect((await server.services.registry.state()).unlocked).toBe(false);
  });

  it('rejects a request with a reason the device is told', async () => {
    const token = await server.services.registryTokens.create(CLI_CONTEXT, { uses: 1 });
    const { requestId, pollSecret } = await deviceRequest({ username: 'plc-odd', token: token.secret });
    const page = await registryPage();
    const row = page.locator('tr[data-request="plc-odd"]');
    expect(await row.textContent()).toContain('with a token');
    await row.locator('[data-action="reject"]').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason (optional)').fill('unknown serial');
    await dialog.getByRole('button', { name: 'Reject' }).click();
    await row.waitFor({ state: 'detached' });
    const polled = await fetch(`${server.url}/api/v1/registry/requests/${requestId}`, {
      headers: { authorization: `Bearer ${pollSecret}` },
    });
    expect(await polled.json()).toMatchObject({ status: 'rejected', reason: 'unknown serial' });
  });

  it('creates an enrolment token shown once, lists its uses left and expiry, and revokes it', async () => {
    const page = await registryPage();
    await page.getByRole('button', { name: 'New token' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('line 4');
    await dialog.getByTestId('token-uses').fill('3');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    const shown = dialog.getByTestId('secret-shown-once');
    await shown.waitFor();
    const secret = (await shown.textContent()) ?? '';
    expect(secret).toMatch(/^wde_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    await dialog.getByRole('button', { name: 'Copy secret' }).waitFor();
    await expectAccessible(page, 'registry-token-created');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });

    await deviceRequest({ username: 'plc-tok', token: secret });
    await page.reload();
    const tokens = page.getByTestId('registry-tokens');
    const row = tokens.locator('tr', { hasText: 'line 4' });
    await expect.poll(() => row.getByTestId('uses-left').textContent()).toBe('2 of 3');
    expect(await row.textContent()).toContain('in 7 days');
    expect(await page.content()).not.toContain(secret);

    await row.locator('[data-action="revoke"]').click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await row.waitFor({ state: 'detached' });
    const refused = await fetch(`${server.url}/api/v1/registry/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'plc-tok2', token: secret }),
    });
    expect(refused.status).toBe(403);
  });

  it('shows the page only to those holding asset_management', async () => {
    const page = await pages.signedIn('olga', STRONG_PASSWORD, '/');
    await expect
      .poll(() => page.getByRole('navigation').getByRole('link', { name: 'Client registry' }).count())
      .toBe(0);
    await page.goto(`${server.url}/registry`);
    await page.getByTestId('not-permitted').waitFor();
  });
});
