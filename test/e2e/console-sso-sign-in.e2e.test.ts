/**
 * Single sign-on in a real Chromium against a real Warden and a real OpenID Provider: "Sign in with Test OP" on the
 * sign-in page, the provider's own login form, landing in the console as the provisioned user with the mapped
 * role, signing out at the provider too; the error banner of a failed sign-in; and the users page's
 * authentication method (the confirmation of a switch, the one-time password of a switch back, the SSO badge).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { addTestProvider } from '../helpers/sso.js';
import { testClient } from '../helpers/sso-sign-in.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import { type ConsolePages, consolePages, expectAccessible } from './console-actions.js';
import { ensureConsoleBuilt } from './console-build.js';
import { type ConsoleServer, ROOT_PASSWORD, startConsoleServer } from './console-server.js';

describe.skipIf(!chromiumAvailable())('console: single sign-on in Chromium', { timeout: 120_000 }, () => {
  let server: ConsoleServer;
  let op: TestOidcProvider;
  let browser: Browser;
  let pages: ConsolePages;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    server = await startConsoleServer();
    op = await startOidcProvider({ clients: [testClient(server.url)] });
    await addTestProvider(server.services, op, {
      auto_provision: 1,
      role_mapping: JSON.stringify([{ value: 'iot-operators', role: 'operator' }]),
    });
    op.setAccount('olga-at-op', {
      email: 'olga@plant.example',
      email_verified: true,
      preferred_username: 'olga',
      groups: ['iot-operators'],
    });
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

  const row = (page: Page, username: string) => page.locator(`tr[data-username="${username}"]`);

  it('signs in with the provider’s own login page and lands as the provisioned user with the mapped role', async () => {
    const page = await pages.newPage();
    await page.goto(`${server.url}/access-roles`);
    await page.waitForURL(/\/login/);
    const button = page.getByRole('link', { name: 'Sign in with Test OP' });
    await button.waitFor();
    await expectAccessible(page, 'login-with-sso');

    await button.click();
    // The provider's own sign-in form, on its own origin.
    await page.waitForURL((url) => url.href.startsWith(op.issuer));
    await page.locator('input[name="login"]').fill('olga-at-op');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();

    // Back in the console, where the sign-in started.
    await page.waitForURL(`${server.url}/access-roles`);
    await page.getByTestId('user-menu').waitFor();
    expect(await page.getByTestId('user-menu').textContent()).toContain('olga');
    await page.goto(`${server.url}/profile`);
    await page.getByTestId('profile-auth-method').waitFor();
    expect(await page.getByTestId('profile-auth-method').textContent()).toBe('SSO provider test-op');
    expect(await page.getByText('operator', { exact: true }).first().isVisible()).toBe(true);
    await page.getByTestId('sso-password-note').waitFor();
    expect(await server.services.users.get('olga')).toMatchObject({
      role: 'operator',
      authMethod: 'sso',
      ssoProvider: 'test-op',
    });

    // Signing out ends the session here and at the provider, which sends the browser back to the sign-in page.
    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.href.startsWith(op.issuer));
    await page.locator('button[name="logout"][value="yes"]').click();
    await page.waitForURL(`${server.url}/login`);
    await page.getByRole('link', { name: 'Sign in with Test OP' }).waitFor();
    const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
    expect(me).toBe(401);
  });

  it('explains a failed sign-in on the sign-in page', async () => {
    const page = await pages.newPage();
    await page.goto(`${server.url}/login?ssoError=sso.user_unknown`);
    const banner = page.getByTestId('sso-error');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('There is no Warden account for you yet');
    await expectAccessible(page, 'login-sso-error');
    await page.goto(`${server.url}/login?ssoError=sso.email_unverified`);
    expect(await page.getByTestId('sso-error').textContent()).toContain('did not confirm your email address');
  });

  it('creates an SSO user, switches a local one to SSO and back with confirmation, and badges SSO users', async () => {
    await server.createUser({ username: 'leo', email: 'leo@plant.example', role: 'viewer' });
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/users');

    await page.getByRole('button', { name: 'Create User' }).click();
    const create = page.getByRole('dialog', { name: 'Create user' });
    await create.getByLabel('Authentication method').selectOption('sso');
    expect(await create.getByLabel('SSO provider').inputValue()).toBe('test-op');
    expect(await create.getByLabel('New password').count()).toBe(0);
    await create.getByLabel('Username').fill('sven');
    const submit = create.getByRole('button', { name: 'Create user' });
    // An SSO user needs an email.
    expect(await submit.isDisabled()).toBe(true);
    await create.getByLabel('Email').fill('sven@plant.example');
    await expectAccessible(page, 'create-sso-user');
    await submit.click();
    await page.getByText('User sven created.').waitFor();
    await row(page, 'sven').getByTestId('sso-badge').waitFor();
    // No password to change for an SSO user.
    expect(await row(page, 'sven').getByRole('button', { name: 'Change password: sven' }).isDisabled()).toBe(
      true,
    );
    expect(await server.services.users.get('sven')).toMatchObject({
      authMethod: 'sso',
      ssoProvider: 'test-op',
    });

    // local → sso, after the confirmation step.
    await row(page, 'leo').getByRole('button', { name: 'Edit: leo' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit leo' });
    await edit.getByLabel('Authentication method').selectOption('sso');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    const confirmSso = page.getByRole('dialog', { name: 'Change how leo signs in?' });
    await confirmSso.getByText('The password is kept but ignored').waitFor();
    await expectAccessible(page, 'auth-method-confirm');
    // Back leaves the user as it was.
    await confirmSso.getByRole('button', { name: 'Back' }).click();
    expect((await server.services.users.get('leo')).authMethod).toBe('local');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await confirmSso.getByRole('button', { name: 'Change and save' }).click();
    await page.getByText('User leo saved.').waitFor();
    await row(page, 'leo').getByTestId('sso-badge').waitFor();
    expect((await server.services.users.get('leo')).authMethod).toBe('sso');

    // sso → local: confirmation, then the one-time password shown once.
    await row(page, 'leo').getByRole('button', { name: 'Edit: leo' }).click();
    const back = page.getByRole('dialog', { name: 'Edit leo' });
    await back.getByLabel('Authentication method').selectOption('local');
    await back.getByRole('button', { name: 'Save changes' }).click();
    const confirmLocal = page.getByRole('dialog', { name: 'Change how leo signs in?' });
    await confirmLocal.getByText('must set a new password at the next sign-in').waitFor();
    await confirmLocal.getByRole('button', { name: 'Change and save' }).click();
    const shown = page.getByTestId('secret-shown-once');
    await shown.waitFor();
    const oneTime = (await shown.textContent()) ?? '';
    expect(oneTime.length).toBeGreaterThanOrEqual(20);
    await page.getByRole('dialog', { name: 'Edit leo' }).getByText('One-time password of leo').waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => row(page, 'leo').getByTestId('sso-badge').count()).toBe(0);
    const login = await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'leo', password: oneTime }),
    });
    expect(login.status).toBe(200);
    expect(((await login.json()) as { next: string }).next).toBe('password_change');

    // Root's method is fixed.
    await page.goto(`${server.url}/users?search=admin&role=admin`);
    await row(page, 'admin').getByRole('button', { name: 'Edit: admin' }).click();
    const root = page.getByRole('dialog', { name: 'Edit admin' });
    expect(await root.getByLabel('Authentication method').isDisabled()).toBe(true);
    await server.services.users.remove(CLI_CONTEXT, 'sven');
  });
});
