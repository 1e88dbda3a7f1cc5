import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { capture } from './browser.js';

/**
 * The code an authenticator app shows for `secret` (the base32 key the console displays at enrolment), at the
 * current 30-second step plus `stepOffset`. Codes are single-use per step, so a second sign-in right after
 * enrolment uses the next step, which the server accepts within its drift window.
 */
export function totpCode(secret: string, stepOffset = 0): string {
  const step = Math.floor(Date.now() / 30_000) + stepOffset;
  return generateHOTP(decodeBase32IgnorePadding(secret), BigInt(step), 6);
}

/** Fills the sign-in form (from any console URL: it redirects there) and submits it. */
export async function submitSignIn(
  page: Page,
  baseUrl: string,
  username: string,
  password: string,
): Promise<void> {
  if (!page.url().includes('/login')) await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByTestId('user-menu').click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
}

/** The `name=value` session cookie of an API sign-in made outside the browser (another device). */
export async function apiSignIn(baseUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw new Error(`API sign-in of ${username} failed: ${response.status}`);
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error('no session cookie');
  return cookie;
}

/** The pages of one browser suite, each in its own profile (cookies, local storage), English, desktop size. */
export interface ConsolePages {
  newPage(): Promise<Page>;
  /** A new profile that opened `path`, was sent to the sign-in page, and signed in as `username`. */
  signedIn(username: string, password: string, path?: string): Promise<Page>;
  /** Closes every profile opened so far (after each test). */
  closeAll(): Promise<void>;
}

export function consolePages(browser: Browser, baseUrl: string): ConsolePages {
  const contexts: BrowserContext[] = [];
  async function newPage(): Promise<Page> {
    const context = await browser.newContext({
      locale: 'en-US',
      reducedMotion: 'reduce',
      viewport: { width: 1440, height: 900 },
    });
    contexts.push(context);
    return context.newPage();
  }
  return {
    newPage,
    async signedIn(username, password, path = '/') {
      const page = await newPage();
      await page.goto(`${baseUrl}${path}`);
      await page.waitForURL(/\/login/);
      await submitSignIn(page, baseUrl, username, password);
      await page.getByTestId('user-menu').waitFor();
      return page;
    },
    async closeAll() {
      await Promise.all(contexts.splice(0).map((context) => context.close()));
    },
  };
}

/** Screenshot + axe: no serious or critical violation on the page as it is now. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  const violations = await capture(page, name);
  expect(violations, `${name}: ${JSON.stringify(violations, null, 2)}`).toEqual([]);
}
