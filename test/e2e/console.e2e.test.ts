/**
 * The admin console (docs/console.md) in a real Chromium against a real Warden: every page is screenshotted
 * into test-results/screenshots/ and checked with axe-core for serious or critical accessibility violations.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recognizeGeneratedSecret } from '../../src/core/crypto/generated-secret.js';
import { CLI_CONTEXT } from '../../src/modules/permissions/operation-context.js';
import { ROLES } from '../../src/modules/permissions/permissions.policy.js';
import type { SecuritySettings } from '../../src/modules/settings/settings.schemas.js';
import { chromiumAvailable, launchChromium } from './browser.js';
import {
  apiSignIn,
  type ConsolePages,
  consolePages,
  expectAccessible,
  signOut,
  submitSignIn,
  totpCode,
} from './console-actions.js';
import { ensureConsoleBuilt } from './console-build.js';
import { type ConsoleServer, ROOT_PASSWORD, STRONG_PASSWORD, startConsoleServer } from './console-server.js';

const SEEDED_USERS = 300;

/** Waits for a value the page reaches asynchronously (a list reloading, a debounced search). */
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000 });
const NEW_PASSWORD = 'N3w-Secret-Phrase!';

/** user-001 … user-300, roles cycling viewer / operator / admin. */
const seeded = Array.from({ length: SEEDED_USERS }, (_, index) => ({
  username: `user-${String(index + 1).padStart(3, '0')}`,
  role: ROLES[index % ROLES.length] ?? 'viewer',
  email: `u${index + 1}@plant.example`,
}));

describe.skipIf(!chromiumAvailable())('admin console in Chromium', { timeout: 120_000 }, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let pages: ConsolePages;

  beforeAll(async () => {
    await ensureConsoleBuilt();
    server = await startConsoleServer();
    for (let start = 0; start < seeded.length; start += 20) {
      await Promise.all(seeded.slice(start, start + 20).map((user) => server.createUser(user)));
    }
    await server.createUser({ username: 'alice', role: 'operator', email: 'alice@plant.example' });
    await server.createUser({ username: 'bob', role: 'viewer', scopes: [] });
    await server.createUser({ username: 'carol', role: 'admin' });
    await server.createUser({ username: 'erin', role: 'viewer' });
    await server.createUser({ username: 'frank', role: 'operator' });
    await server.createUser({ username: 'grace', role: 'viewer' });
    await server.createUser({ username: 'heidi', role: 'viewer' });
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

  async function changeSecurity(change: Partial<SecuritySettings>): Promise<SecuritySettings> {
    const before = await server.services.settings.getSecurity();
    await server.services.settings.putSecurity(CLI_CONTEXT, { ...before, ...change });
    return before;
  }

  const row = (page: Page, username: string) => page.locator(`tr[data-username="${username}"]`);
  const rowNames = (page: Page) =>
    page.locator('tr[data-username]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-username')));

  it('refuses a wrong password in plain words, then signs in and returns to the deep link', async () => {
    const page = await pages.newPage();
    await page.goto(`${server.url}/users?role=admin`);
    await page.waitForURL(/\/login\?from=/);
    await expectAccessible(page, 'login');

    await submitSignIn(page, server.url, 'admin', 'not-the-password');
    expect(await page.getByTestId('login-error').textContent()).toBe('Wrong username or password.');

    await page.getByLabel('Password').fill(ROOT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/users\?role=admin$/);
    await row(page, 'admin').waitFor();
    expect(await page.getByRole('navigation', { name: 'Main navigation' }).textContent()).toContain(
      'Audit log',
    );
  });

  it('searches, filters by role and pages through 300 users, keeping it all in the URL', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/users');
    await row(page, 'admin').waitFor();
    const { total } = await server.services.users.list({});
    const top = page.getByTestId('pagination-top');
    expect(await top.getByTestId('pagination-total').textContent()).toBe(`Total: ${total}`);
    expect(await page.locator('tr[data-username]').count()).toBe(25);
    expect(await page.getByTestId('pagination-bottom').getByTestId('pagination-total').textContent()).toBe(
      `Total: ${total}`,
    );
    await expectAccessible(page, 'users');

    await top.getByLabel('Rows per page').selectOption('50');
    await page.waitForURL(/size=50/);
    await poll(() => page.locator('tr[data-username]').count()).toBe(50);
    const firstPage = await rowNames(page);
    await top.getByRole('button', { name: 'Next page' }).click();
    await page.waitForURL(/page=2/);
    await poll(async () => (await rowNames(page))[0]).not.toBe(firstPage[0]);

    await page.getByLabel('Search users').fill('user-1');
    await page.waitForURL(/search=user-1/);
    expect(new URL(page.url()).searchParams.get('page')).toBeNull();
    const matching = seeded.filter((user) => user.username.includes('user-1'));
    await expect
      .poll(() => top.getByTestId('pagination-total').textContent())
      .toBe(`Total: ${matching.length}`);

    await page.getByLabel('Role', { exact: true }).selectOption('operator');
    await page.waitForURL(/role=operator/);
    const operators = matching.filter((user) => user.role === 'operator');
    await expect
      .poll(() => top.getByTestId('pagination-total').textContent())
      .toBe(`Total: ${operators.length}`);
    expect(await rowNames(page)).toEqual(operators.map((user) => user.username));

    await page.reload();
    await row(page, operators[0]?.username ?? '').waitFor();
    expect(await page.getByLabel('Search users').inputValue()).toBe('user-1');
    expect(await page.getByLabel('Role', { exact: true }).inputValue()).toBe('operator');
  });

  it('creates a user through the password policy checklist and the session timeout preview', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/users');
    await page.getByRole('button', { name: 'Create User' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create user' });
    await dialog.waitFor();

    await dialog.getByLabel('Username').fill('zoe');
    await dialog.getByLabel('Email').fill('zoe@plant.example');
    await dialog.getByLabel('Role', { exact: true }).selectOption('operator');
    const timeout = dialog.getByLabel('Session timeout (minutes)');
    await timeout.fill('90');
    await dialog.getByText('Signs out after 1 hour 30 minutes without activity').waitFor();
    await timeout.fill('525600');
    await dialog.getByText('Signs out after 1 year without activity').waitFor();
    await timeout.fill('0');
    await dialog.getByText('Uses the system default').waitFor();

    const checklist = dialog.getByTestId('password-checklist');
    const unmet = () => checklist.locator('li[data-met="false"]').count();
    await dialog.getByLabel('New password').fill('short');
    await poll(unmet).toBe(4);
    const create = dialog.getByRole('button', { name: 'Create user' });
    expect(await create.isDisabled()).toBe(true);
    await dialog.getByLabel('New password').fill(STRONG_PASSWORD);
    await poll(unmet).toBe(0);
    await dialog.getByLabel('Confirm password').fill(`${STRONG_PASSWORD}x`);
    await dialog.getByText('The passwords do not match.').waitFor();
    await dialog.getByLabel('Confirm password').fill(STRONG_PASSWORD);
    expect(await dialog.getByTestId('granted-scopes').textContent()).toContain(
      'Asset Management, Log Management',
    );
    await expectAccessible(page, 'create-user-modal');

    await create.click();
    await page.getByText('User zoe created.').waitFor();
    const zoe = await server.services.users.get('zoe');
    expect(zoe).toMatchObject({ role: 'operator', email: 'zoe@plant.example', sessionTimeoutMinutes: 0 });
  });

  it('creates a device with a generated secret shown once, and rotates it with a grace period', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/users');
    await page.getByRole('button', { name: 'Create User' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create user' });
    await dialog.getByLabel('Username').fill('plc-07');
    await dialog.getByLabel('Kind').selectOption('device');
    expect(await dialog.getByLabel('Generate the MQTT secret (recommended)').isChecked()).toBe(true);
    expect(await dialog.getByLabel('New password').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Create user' }).click();
    const shown = dialog.getByTestId('secret-shown-once');
    const first = (await shown.textContent()) ?? '';
    expect(recognizeGeneratedSecret(first)).toBe(first);
    await dialog.getByRole('button', { name: 'Copy secret' }).waitFor();
    await expectAccessible(page, 'device-secret-shown-once');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });

    await page.getByLabel('Search users').fill('plc-07');
    await row(page, 'plc-07').getByRole('button', { name: 'Rotate secret: plc-07' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate the secret of plc-07' });
    await rotate.getByText('The current secret stops working at once').waitFor();
    await rotate.getByLabel('Grace period (minutes)').fill('90');
    await rotate.getByText('The current secret keeps working for 1 hour 30 minutes').waitFor();
    await expectAccessible(page, 'rotate-secret-modal');
    await rotate.getByRole('button', { name: 'Rotate secret' }).click();
    const second = (await rotate.getByTestId('secret-shown-once').textContent()) ?? '';
    expect(recognizeGeneratedSecret(second)).toBe(second);
    expect(second).not.toBe(first);
    await rotate.getByText(/^The previous secret works until /).waitFor();
    for (const secret of [first, second]) {
      const result = await server.services.mqttAuth.authenticate({
        username: 'plc-07',
        password: Buffer.from(secret),
        clientId: 'plc-07',
        ip: '192.0.2.7',
      });
      expect(result.ok).toBe(true);
    }
    await rotate.getByRole('button', { name: 'Done' }).click();

    // A person has no generated secret: the action is there, disabled, and says why.
    await page.getByLabel('Search users').fill('erin');
    const erin = row(page, 'erin').getByRole('button', { name: 'Rotate secret: erin' });
    expect(await erin.isDisabled()).toBe(true);
  });

  it('edits permissions in the row: Modified, Cancel, Save, and a refused save explained on the row', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/users?search=alice');
    const alice = row(page, 'alice');
    const logToggle = alice.getByRole('switch', { name: 'Log Management for alice' });
    const modified = alice.getByTestId('modified-badge');
    expect(await logToggle.isChecked()).toBe(true);
    expect(
      await alice.getByRole('switch', { name: 'System Config for alice' }).isDisabled(),
      'an operator cannot hold System Config',
    ).toBe(true);

    await logToggle.click({ force: true });
    await modified.waitFor();
    await expectAccessible(page, 'users-modified');
    await alice.getByRole('button', { name: 'Discard permission changes of alice' }).click();
    await modified.waitFor({ state: 'detached' });
    expect(await logToggle.isChecked()).toBe(true);

    await logToggle.click({ force: true });
    await alice.getByRole('button', { name: 'Save permissions of alice' }).click();
    await page.getByText('Permissions of alice saved.').waitFor();
    await modified.waitFor({ state: 'detached' });
    expect((await server.services.users.get('alice')).scopes).toEqual(['asset_management']);

    // Another admin demotes alice while this row still holds an operator's permissions.
    await logToggle.click({ force: true });
    await server.services.users.update(CLI_CONTEXT, 'alice', { role: 'viewer', scopes: [] });
    await alice.getByRole('button', { name: 'Save permissions of alice' }).click();
    expect(await page.getByTestId('row-error').textContent()).toContain(
      'These permissions are not allowed for this user’s role.',
    );
    expect(await modified.isVisible()).toBe(true);
  });

  it('deactivates (worded as such), hides, shows with "Show inactive", dimmed, and reactivates', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/users?search=user-002');
    await row(page, 'user-002').getByRole('button', { name: 'Deactivate: user-002' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deactivate user-002?' });
    expect(await dialog.getByRole('button', { name: 'Deactivate' }).isVisible()).toBe(true);
    expect(await dialog.getByRole('button', { name: /delete/i }).count()).toBe(0);
    await expectAccessible(page, 'deactivate-modal');
    await dialog.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByTestId('empty-state').waitFor();

    await page.getByLabel('Show inactive').click();
    await page.waitForURL(/inactive=1/);
    const inactive = row(page, 'user-002');
    await inactive.waitFor();
    expect(await inactive.getAttribute('data-inactive')).toBe('true');
    expect(await inactive.getByText('Inactive').isVisible()).toBe(true);
    await expectAccessible(page, 'users-inactive');

    await inactive.getByRole('button', { name: 'Reactivate: user-002' }).click();
    await page
      .getByRole('dialog', { name: 'Reactivate user-002?' })
      .getByRole('button', { name: 'Reactivate' })
      .click();
    await page.getByText('user-002 reactivated.').waitFor();
    await inactive.getByText('Active', { exact: true }).waitFor();
    expect((await server.services.users.get('user-002')).active).toBe(true);
  });

  it('keeps root safe: no delete, fixed role and permissions; deleting others asks for the username', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/users?search=admin&role=admin');
    const root = row(page, 'admin');
    await root.getByTestId('root-badge').waitFor();
    expect(await root.getByRole('button', { name: 'Delete: admin' }).isDisabled()).toBe(true);
    for (const toggle of await root.getByRole('switch').all()) expect(await toggle.isDisabled()).toBe(true);
    await root.getByRole('button', { name: 'Edit: admin' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit admin' });
    expect(await edit.getByLabel('Username').isDisabled()).toBe(true);
    expect(await edit.getByLabel('Role', { exact: true }).isDisabled()).toBe(true);
    await expectAccessible(page, 'edit-root-modal');
    await edit.getByRole('button', { name: 'Cancel' }).click();

    await page.goto(`${server.url}/users?search=user-003`);
    await row(page, 'user-003').getByRole('button', { name: 'Delete: user-003' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete user-003?' });
    const remove = confirm.getByRole('button', { name: 'Delete permanently' });
    expect(await remove.isDisabled()).toBe(true);
    await confirm.getByLabel('Type user-003 to confirm').fill('user-003');
    await remove.click();
    await page.getByText('user-003 deleted.').waitFor();
    await page.getByTestId('empty-state').waitFor();
  });

  it("shows a viewer no admin navigation or write buttons, and 'not permitted' on a direct admin URL", async () => {
    const page = await pages.signedIn('bob', STRONG_PASSWORD);
    await page.waitForURL(/\/profile$/);
    const navigation = page.getByRole('navigation', { name: 'Main navigation' });
    expect(await navigation.getByRole('link').allTextContents()).toEqual([
      'Access roles',
      'MQTT clients',
      'Settings',
    ]);
    await expectAccessible(page, 'viewer-profile');
    await page.keyboard.press('Tab');
    expect(
      await page
        .getByRole('link', { name: 'Skip to content' })
        .evaluate((link) => link === link.ownerDocument.activeElement),
    ).toBe(true);

    for (const path of ['/users', '/sessions', '/audit', '/settings/security']) {
      await page.goto(`${server.url}${path}`);
      await page.getByTestId('not-permitted').waitFor();
    }
    await expectAccessible(page, 'viewer-not-permitted');
    await page.goto(`${server.url}/settings`);
    await page.waitForURL(/\/settings\/appearance$/);
    expect(await page.getByRole('tab', { name: 'Security' }).count()).toBe(0);
  });

  it('switches theme (auto follows the OS and disables the manual choice) and language, remembered', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/settings/appearance');
    const html = page.locator('html');
    const followOs = page.getByRole('switch', { name: /Follow the operating system/ });
    expect(await followOs.isChecked()).toBe(true);
    expect(await page.getByTestId('theme-choice').getAttribute('data-disabled')).toBe('true');
    await expectAccessible(page, 'settings-appearance');

    await followOs.click({ force: true });
    await page.getByTestId('theme-choice').getByText('Dark').click();
    await page.locator('html[data-mantine-color-scheme="dark"]').waitFor({ state: 'attached' });
    await page.goto(`${server.url}/users`);
    await row(page, 'admin').waitFor();
    expect(await html.getAttribute('data-mantine-color-scheme')).toBe('dark');
    await expectAccessible(page, 'users-dark');

    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'Deutsch' }).click();
    await page.getByRole('heading', { name: 'Benutzer', level: 1 }).waitFor();
    expect(await html.getAttribute('lang')).toBe('de');
    await page.reload();
    await page.getByRole('heading', { name: 'Benutzer', level: 1 }).waitFor();
    expect(await html.getAttribute('data-mantine-color-scheme')).toBe('dark');
    await page.getByTestId('user-menu').click();
    await page.getByRole('menuitem', { name: 'Hell' }).click();
    await page.keyboard.press('Escape');
    await page.locator('html[data-mantine-color-scheme="light"]').waitFor({ state: 'attached' });
    await expectAccessible(page, 'users-german');

    await page.goto(`${server.url}/settings/appearance`);
    await page.getByLabel('Anzeigesprache').selectOption('en');
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  });

  it('enrols MFA on the profile (QR code, recovery codes once), then signs in with a TOTP and a recovery code', async () => {
    const page = await pages.signedIn('carol', STRONG_PASSWORD, '/profile');
    const mfaStatus = page.getByTestId('mfa-status');
    expect(await mfaStatus.textContent()).toBe('Disabled');
    await page.getByRole('button', { name: 'Set up authenticator' }).click();
    const dialog = page.getByRole('dialog', { name: 'Set up an authenticator app' });
    const qr = dialog.getByTestId('totp-qr');
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    const secret = (await dialog.getByTestId('totp-secret').textContent()) ?? '';
    await expectAccessible(page, 'profile-mfa-enrol');

    await dialog.getByLabel('Authentication code').fill(totpCode(secret));
    await dialog.getByRole('button', { name: 'Verify and turn on' }).click();
    await dialog.getByTestId('recovery-codes').waitFor();
    const codes = await dialog.getByTestId('recovery-codes').locator('code').allTextContents();
    expect(codes).toHaveLength(10);
    await expectAccessible(page, 'profile-mfa-recovery-codes');
    await dialog.getByRole('button', { name: 'I have saved the codes' }).click();
    await mfaStatus.filter({ hasText: 'Enabled' }).waitFor();
    await expectAccessible(page, 'profile');

    await signOut(page);
    await submitSignIn(page, server.url, 'carol', STRONG_PASSWORD);
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    await expectAccessible(page, 'login-mfa');
    await page.getByLabel('Authentication code').fill('000000');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    expect(await page.getByTestId('login-error').textContent()).toBe(
      'The code is wrong, expired or was already used.',
    );
    await page.getByLabel('Authentication code').fill(totpCode(secret, 1));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(/\/users$/);

    await signOut(page);
    await submitSignIn(page, server.url, 'carol', STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(codes[0] ?? '');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.waitForURL(/\/users$/);
  });

  it('forces a password change with the policy checklist before the console opens', async () => {
    await server.services.users.setPassword(CLI_CONTEXT, 'erin', STRONG_PASSWORD, { mustChange: true });
    const page = await pages.newPage();
    await submitSignIn(page, server.url, 'erin', STRONG_PASSWORD);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.getByLabel('Current password').fill(STRONG_PASSWORD);
    await page.getByLabel('New password').fill('weak');
    const submit = page.getByRole('button', { name: 'Change password and continue' });
    expect(await submit.isDisabled()).toBe(true);
    await expectAccessible(page, 'login-password-change');
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByLabel('Confirm password').fill(NEW_PASSWORD);
    await submit.click();
    await page.waitForURL(/\/profile$/);
    await page.getByTestId('sessions-table').getByText('This browser').waitFor();
  });

  it('forces MFA enrolment with a QR code when the role requires it', async () => {
    const before = await changeSecurity({ mfaRequiredRoles: ['operator'] });
    try {
      const page = await pages.newPage();
      await submitSignIn(page, server.url, 'frank', STRONG_PASSWORD);
      await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
      await page.getByTestId('totp-qr').waitFor();
      await expectAccessible(page, 'login-mfa-enrol');
      const secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
      await page.getByLabel('Authentication code').fill(totpCode(secret));
      await page.getByRole('button', { name: 'Verify and turn on' }).click();
      await page.getByTestId('recovery-codes').waitFor();
      await page.getByRole('button', { name: 'I have saved the codes' }).click();
      // An operator's first administrative page: the client registry (asset_management), its queue of decisions.
      await page.waitForURL(/\/registry$/);
      expect((await server.services.users.get('frank')).mfaEnabled).toBe(true);
    } finally {
      await server.services.settings.putSecurity(CLI_CONTEXT, before);
    }
  });

  it('explains throttling with the seconds to wait, and the concurrent-session cap', async () => {
    const before = await changeSecurity({
      throttle: { maxAttemptsPerAccount: 2, maxAttemptsPerIp: 1000, windowMinutes: 15 },
    });
    try {
      const page = await pages.newPage();
      for (const password of ['wrong-1', 'wrong-2', STRONG_PASSWORD]) {
        const answered = page.waitForResponse((response) => response.url().endsWith('/api/v1/auth/login'));
        await submitSignIn(page, server.url, 'grace', password);
        await answered;
      }
      await page.getByText(/^Too many sign-in attempts\. Try again in \d+ seconds\.$/).waitFor();
      await expectAccessible(page, 'login-throttled');
    } finally {
      await server.services.settings.putSecurity(CLI_CONTEXT, before);
    }

    // At least one non-admin is signed in elsewhere, so a cap of one is reached.
    await apiSignIn(server.url, 'bob', STRONG_PASSWORD);
    await changeSecurity({ maxConcurrentSessions: 1 });
    try {
      const page = await pages.newPage();
      await submitSignIn(page, server.url, 'heidi', STRONG_PASSWORD);
      expect(await page.getByTestId('login-error').textContent()).toBe(
        'The maximum number of people signed in at once is reached. Try again later or ask an admin.',
      );
    } finally {
      await server.services.settings.putSecurity(CLI_CONTEXT, before);
    }
  });

  it('filters the audit log by action and outcome and exports with the same filters', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/audit');
    await page.getByTestId('audit-table').waitFor();
    await page.getByLabel('Action').fill('auth.login');
    await page.waitForURL(/action=auth\.login/);
    await page.getByLabel('Outcome').selectOption('failure');
    await page.waitForURL(/outcome=failure/);
    const outcomes = page.getByTestId('audit-table').locator('tbody tr td:nth-child(6)');
    await poll(async () => new Set(await outcomes.allTextContents())).toEqual(new Set(['Failure']));
    await expectAccessible(page, 'audit');

    const csv = page.getByRole('link', { name: 'Export CSV' });
    const href = (await csv.getAttribute('href')) ?? '';
    expect(new URL(href, server.url).searchParams.toString()).toBe(
      'action=auth.login&outcome=failure&format=csv',
    );
    const exported = await page.request.get(new URL(href, server.url).toString());
    expect(exported.headers()['content-type']).toContain('text/csv');
    expect(await exported.text()).toContain('auth.login');
  });

  it('lists live sessions for admins and terminates one', async () => {
    const cookie = await apiSignIn(server.url, 'heidi', STRONG_PASSWORD);
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/sessions?username=heidi');
    const table = page.getByTestId('sessions-table');
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(1);
    // When it ends, in words: the idle end (minutes away) and the absolute one.
    expect(await table.getByTestId('session-expiry').textContent()).toMatch(
      /^in \d+ min\. if idle · at the latest \S/,
    );
    await expectAccessible(page, 'sessions');
    await table.getByRole('button', { name: /^Sign out the session of heidi/ }).click();
    await page.getByText('Session of heidi ended.').waitFor();
    await page.getByTestId('empty-state').waitFor();
    const me = await fetch(`${server.url}/api/v1/me`, { headers: { cookie } });
    expect(me.status).toBe(401);
  });

  it('saves the security settings', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/settings');
    await page.waitForURL(/\/settings\/security$/);
    const minLength = page.getByLabel('Minimum length');
    await minLength.waitFor();
    await expectAccessible(page, 'settings-security');
    await minLength.fill('12');
    const denyAction = page.getByLabel('When a client publishes where it may not');
    expect(await denyAction.inputValue()).toBe('ignore');
    await denyAction.selectOption({ label: 'Disconnect' });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Security settings saved.').waitFor();
    const saved = await server.services.settings.getSecurity();
    expect(saved.passwordPolicy.minLength).toBe(12);
    expect(saved.mqtt.denyAction).toBe('disconnect');
    // The running server's broker reads it from its cache, which the save has updated.
    expect(server.services.settings.cachedSecurity().mqtt.denyAction).toBe('disconnect');
    await server.services.settings.putSecurity(CLI_CONTEXT, { ...saved, mqtt: { denyAction: 'ignore' } });
  });

  it('limits the management API to listed networks, refusing a list without the own address', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/settings/security');
    const field = page.getByLabel('Allowed networks');
    await field.waitFor();
    await page.getByText('Your address as Warden sees it: 127.0.0.1.', { exact: false }).waitFor();
    await expectAccessible(page, 'settings-security-api-access');
    await field.fill('10.0.0.0/8');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('This list would lock you out', { exact: false }).waitFor();
    expect((await server.services.settings.getSecurity()).apiAllowFrom).toEqual([]);
    await field.fill('10.0.0.0/8\n127.0.0.1');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Security settings saved.').waitFor();
    const saved = await server.services.settings.getSecurity();
    expect(saved.apiAllowFrom).toEqual(['10.0.0.0/8', '127.0.0.1']);
    await server.services.settings.putSecurity(CLI_CONTEXT, { ...saved, apiAllowFrom: [] });
  });

  it('creates a scrape token shown once with the Prometheus configuration, and deletes it after confirming', async () => {
    const page = await pages.signedIn('admin', ROOT_PASSWORD, '/settings/monitoring');
    await page.getByTestId('empty-state').waitFor();
    const snippet = (await page.getByTestId('scrape-config').textContent()) ?? '';
    expect(snippet).toContain('job_name: warden');
    expect(snippet).toContain(`targets: ['${new URL(server.url).host}']`);
    await expectAccessible(page, 'settings-monitoring');

    await page.getByRole('button', { name: 'New scrape token' }).click();
    const dialog = page.getByRole('dialog', { name: 'New scrape token' });
    await dialog.getByLabel('Name').fill('prometheus-main');
    await dialog.getByLabel('Description').fill('central Prometheus');
    await dialog.getByRole('button', { name: 'Create token' }).click();
    const secret = (await dialog.getByTestId('secret-shown-once').textContent()) ?? '';
    expect(secret).toMatch(/^wdm_[0-9a-f]{16}_/);
    expect(await server.services.scrapeTokens.authenticate(secret)).toBe(true);
    await dialog.getByRole('button', { name: 'Copy secret' }).waitFor();
    await expectAccessible(page, 'scrape-token-shown-once');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });

    const tokenRow = page.locator('tr[data-token="prometheus-main"]');
    await tokenRow.getByText('Never used').waitFor();
    expect(await page.content()).not.toContain(secret);
    await tokenRow.getByRole('button', { name: 'Delete scrape token prometheus-main' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete scrape token prometheus-main?' });
    await expectAccessible(page, 'scrape-token-delete');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('empty-state').waitFor();
    expect(await server.services.scrapeTokens.authenticate(secret)).toBe(false);
  });
});
