import fs from 'node:fs';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const SCREENSHOT_DIR = path.resolve('test-results', 'screenshots');

/**
 * Debian's Chromium, if installed. Missing on a laptop: the browser tests skip with a loud warning. Missing in
 * CI (`CI=true`, where .ci/run installs it): a hard failure, because a skipped suite would hide a broken console.
 */
export function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === 'true')
    throw new Error(`${CHROMIUM_PATH} is missing in CI: the console tests must run`);
  console.warn(
    `\n*** ${CHROMIUM_PATH} not found: the console browser tests are SKIPPED ` +
      '(apt-get update && apt-get install -y chromium) ***\n',
  );
  return false;
}

/** Headless Chromium; Playwright starts it with a fresh temporary --user-data-dir every time. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: readonly string[];
}

/**
 * Saves a screenshot of what the page shows (test-results/screenshots/<name>.png) and runs axe-core on the whole
 * page, answering the serious and critical accessibility violations (the suite asserts there are none).
 */
export async function capture(page: Page, name: string): Promise<AxeViolation[]> {
  // Hover is transient (a highlighted row under the last click); the check is about the page at rest.
  await page.mouse.move(0, 0);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), animations: 'disabled' });
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? '',
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(' ')),
    }));
}
