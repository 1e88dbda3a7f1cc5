/**
 * The console's API keys in a real Chromium against a real Warden: creating a key (shown once, with a copy
 * button) that then works against the API, the list with owner, role, expiry in words and last use, disabling
 * and deleting with confirmation, a service account's keys from the users page, and who may see the page.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { type ConsolePages, consolePages, expectAccessible } from './console-actions.js';
import { ensureConsoleBuilt } from './console-build.js';
import { type ConsoleServer, ROOT_PASSWORD, STRONG_PASSWORD, startConsoleServer } from './console-server.js';

describe.skipIf(!chromiumAvailable())('console: API keys in Chromium', { timeout: 120_000 }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let pages: ConsolePages;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    server = await startConsoleServer();
    await server.createUser({
      username: 'svc-export',
      role: 'viewer',
      kind: 'service',
      scopes: ['log_management'],
    });
    await server.createUser({ username: 'otto', role: 'operator' });
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

  const row = (page: Page, name: string) => page.locator(`tr[data-api-key="${name}"]`);

  /** The status of `GET /api/v1/me` with the key, as a script would call it. */
  async function statusWith(key: string): Promise<number> {
    const response = await fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
    return response.status;
  }

  async function apiKeysPage(): Promise<Page> {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/api-keys');
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    return page;
  }

  it('creates a key shown once with a copy button; it works, and the list says who, what, until when', async () => {
    const page = await apiKeysPage();
    await page.getByTestId('empty-state').waitFor();
    await expectAccessible(page, 'api-keys-empty');
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('deploy');
    await dialog.getByLabel('Description').fill('CI pipeline');
    expect(await dialog.getByLabel('Owner').inputValue()).toBe('admin');
    await dialog.getByLabel('Role').selectOption('operator');
    await dialog.getByLabel('Asset Management').check();
    await dialog.getByTestId('expiry-input').selectOption('30');
    await expectAccessible(page, 'api-key-form');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const shown = dialog.getByTestId('secret-shown-once');
    await shown.waitFor();
    const key = (await shown.textContent()) ?? '';
    expect(key).toMatch(/^wdn_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
    await dialog.getByRole('button', { name: 'Copy secret' }).waitFor();
    await expectAccessible(page, 'api-key-created');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });

    expect(await statusWith(key)).toBe(200);
    await server.services.apiKeys.flushLastUsed();
    await page.reload();
    const deploy = row(page, 'deploy');
    await deploy.waitFor();
    const text = await deploy.textContent();
    expect(text).toContain('CI pipeline');
    expect(text).toContain('admin');
    expect(text).toContain('operator');
    // 30 days from now, in words.
    expect(text).toContain('in 4 wk.');
    expect(await deploy.getByTestId('last-used').textContent()).not.toBe('never');
    expect(await page.content()).not.toContain(key);
    await expectAccessible(page, 'api-keys');
  });

  it('disables and deletes a key after confirmation; it stops at the next request', async () => {
    const created = await server.services.apiKeys.create(CLI_CONTEXT, {
      name: 'nightly',
      owner: 'svc-export',
      role: 'viewer',
      scopes: [],
    });
    const page = await apiKeysPage();
    const nightly = row(page, 'nightly');
    expect(await nightly.getByTestId('last-used').textContent()).toBe('never');
    await nightly.locator('[data-action="disable"]').click();
    const confirm = page.getByRole('dialog');
    await confirm.getByText('Requests with this key are refused').waitFor();
    await expectAccessible(page, 'api-key-disable');
    await confirm.getByRole('button', { name: 'Disable' }).click();
    await confirm.waitFor({ state: 'detached' });
    await expect.poll(() => nightly.getByTestId('key-status').textContent()).toBe('disabled');
    expect(await statusWith(created.key)).toBe(401);

    await nightly.locator('[data-action="enable"]').click();
    await page.getByRole('dialog').getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => nightly.getByTestId('key-status').textContent()).toBe('enabled');
    expect(await statusWith(created.key)).toBe(200);

    await nightly.locator('[data-action="delete"]').click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await nightly.waitFor({ state: 'detached' });
    expect(await statusWith(created.key)).toBe(401);
  });

  it("lists and creates a service account's keys from the users page", async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/users');
    await page.locator('tr[data-username="svc-export"] [data-action="apiKeys"]').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('API keys of svc-export').waitFor();
    await expectAccessible(page, 'user-api-keys');
    await dialog.getByRole('button', { name: 'New API key' }).click();
    const form = page.getByRole('dialog');
    expect(await form.getByLabel('Owner').isDisabled()).toBe(true);
    expect(await form.getByLabel('Owner').inputValue()).toBe('svc-export');
    await form.getByLabel('Name').fill('report-bot');
    await form.getByLabel('Log Management').check();
    await form.getByRole('button', { name: 'Create key' }).click();
    const key = (await form.getByTestId('secret-shown-once').textContent()) ?? '';
    expect(await statusWith(key)).toBe(200);
    const keys = await server.services.apiKeys.list({ owner: 'svc-export' });
    expect(keys.items.map((k) => [k.name, k.scopes])).toContainEqual(['report-bot', ['log_management']]);
    // Deactivating the service account stops its keys at once.
    await server.services.users.deactivate(CLI_CONTEXT, 'svc-export');
    expect(await statusWith(key)).toBe(401);
  });

  it('shows the page only to those holding api_key_management', async () => {
    const page = await pages.signedIn('otto', STRONG_PASSWORD, '/');
    await expect
      .poll(() => page.getByRole('navigation').getByRole('link', { name: 'API keys' }).count())
      .toBe(0);
    await page.goto(`${server.url}/api-keys`);
    await page.getByTestId('not-permitted').waitFor();
  });
});
