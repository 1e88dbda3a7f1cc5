/**
 * Settings › Authentication in a real Chromium against a real Warden and a real OpenID Provider: creating a
 * provider from a preset (redirect URI shown, test connection against the provider), the provider's own error
 * for a wrong issuer, editing with the write-only secret kept, the enabled switch, deletion with confirmation,
 * and who may see the tab.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { TEST_CLIENT_ID, TEST_CLIENT_SECRET } from '../helpers/sso.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { type ConsolePages, consolePages, expectAccessible } from './console-actions.js';
import { ensureConsoleBuilt } from './console-build.js';
import { type ConsoleServer, ROOT_PASSWORD, STRONG_PASSWORD, startConsoleServer } from './console-server.js';

describe.skipIf(!chromiumAvailable())('console: SSO providers in Chromium', { timeout: 120_000 }, () => {
  let server: ConsoleServer;
  let op: TestOidcProvider;
  let browser: Browser;
  let pages: ConsolePages;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    server = await startConsoleServer();
    op = await startOidcProvider({
      clients: [
        {
          clientId: TEST_CLIENT_ID,
          clientSecret: TEST_CLIENT_SECRET,
          redirectUris: [`${server.url}/api/v1/auth/sso/corp/callback`],
        },
      ],
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
    await op?.stop();
    await server?.close();
  });

  const row = (page: Page, name: string) => page.locator(`tr[data-provider="${name}"]`);

  it('creates, tests, edits, disables and deletes a provider against a real OpenID Provider', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/settings/authentication');
    await page.getByRole('tab', { name: 'Authentication' }).waitFor();
    await page.getByTestId('empty-state').waitFor();
    await expectAccessible(page, 'settings-authentication-empty');

    await page.getByRole('button', { name: 'New provider' }).click();
    const dialog = page.getByRole('dialog', { name: 'New single sign-on provider' });
    // Keycloak is preselected; its hint says how to get groups.
    expect(await dialog.getByTestId('preset-hint').textContent()).toContain('Group Membership');
    await dialog.getByLabel('Preset').selectOption('generic');
    expect(await dialog.getByLabel('Scopes').inputValue()).toBe('openid email profile');
    expect(await dialog.getByLabel('Groups claim').inputValue()).toBe('groups');
    await dialog.getByLabel(/^Name/).fill('corp');
    expect(await dialog.getByTestId('redirect-uri').textContent()).toBe(
      `${server.url}/api/v1/auth/sso/corp/callback`,
    );
    await dialog.getByLabel('Display name').fill('Corporate login');
    await dialog.getByLabel(/^Issuer/).fill(op.issuer);
    await dialog.getByLabel('Client ID').fill(TEST_CLIENT_ID);
    await dialog.getByLabel(/^Client secret/).fill(TEST_CLIENT_SECRET);
    await dialog.getByRole('button', { name: 'Add mapping' }).click();
    await dialog.getByLabel('Group value of mapping 1').fill('plant-operators');
    await dialog.getByLabel('Role of mapping 1').selectOption('operator');

    await dialog.getByRole('button', { name: 'Test connection' }).click();
    const result = dialog.getByTestId('test-result');
    await result.getByText('Connection works').waitFor();
    expect(await result.textContent()).toContain(`${op.issuer}/auth`);
    await expectAccessible(page, 'sso-provider-form');
    await dialog.getByRole('button', { name: 'Create provider' }).click();
    await dialog.waitFor({ state: 'detached' });

    const corp = row(page, 'corp');
    await corp.waitFor();
    expect(await corp.textContent()).toContain('Corporate login');
    expect(await corp.getByTestId('mappings').textContent()).toBe('1');
    expect(await page.content()).not.toContain(TEST_CLIENT_SECRET);
    const stored = await server.services.ssoProviders.find('corp');
    expect(stored).toMatchObject({
      clientSecret: TEST_CLIENT_SECRET,
      roleMapping: [{ value: 'plant-operators', role: 'operator' }],
    });
    await expectAccessible(page, 'settings-authentication');

    // A wrong issuer: "Test connection" shows the provider's own error; the form is not saved.
    await corp.locator('[data-action="edit"]').click();
    const edit = page.getByRole('dialog', { name: 'Provider corp' });
    expect(await edit.getByLabel(/^Name/).isDisabled()).toBe(true);
    expect(await edit.getByLabel(/^Client secret/).inputValue()).toBe('');
    await edit.getByText('A secret is stored').waitFor();
    await edit.getByLabel(/^Issuer/).fill(`${op.issuer}/realms/wrong`);
    await edit.getByRole('button', { name: 'Test connection' }).click();
    const failure = edit.getByTestId('test-result');
    await failure.getByText('The provider could not be used').waitFor();
    expect(await failure.textContent()).toMatch(/unexpected HTTP response status code \(HTTP 404/);
    await expectAccessible(page, 'sso-provider-test-failed');

    // Back to the right issuer, a new display name; the secret left empty stays as stored.
    await edit.getByLabel(/^Issuer/).fill(op.issuer);
    await edit.getByLabel('Display name').fill('Plant SSO');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    await expect.poll(() => corp.textContent()).toContain('Plant SSO');
    expect(await server.services.ssoProviders.find('corp')).toMatchObject({
      displayName: 'Plant SSO',
      issuer: op.issuer,
      clientSecret: TEST_CLIENT_SECRET,
    });

    await corp.getByRole('switch', { name: 'Enabled: corp' }).click({ force: true });
    await page.getByText('Provider corp disabled').waitFor();
    expect((await server.services.ssoProviders.find('corp'))?.enabled).toBe(false);

    await corp.locator('[data-action="delete"]').click();
    const confirm = page.getByRole('dialog', { name: 'Delete provider corp?' });
    await expectAccessible(page, 'sso-provider-delete');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('empty-state').waitFor();
    expect(await server.services.ssoProviders.find('corp')).toBeUndefined();
  });

  it('shows the tab only to those holding sso_management', async () => {
    const page = await pages.signedIn('otto', STRONG_PASSWORD, '/settings');
    await page.waitForURL(/\/settings\/appearance$/);
    await page.getByRole('tab', { name: 'Appearance' }).waitFor();
    expect(await page.getByRole('tab', { name: 'Authentication' }).count()).toBe(0);
    await page.goto(`${server.url}/settings/authentication`);
    await page.getByTestId('not-permitted').waitFor();
  });
});
