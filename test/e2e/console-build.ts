import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
export const WEB_DIST = path.join(WEB_DIR, 'dist');

/** Newest modification time under `dir` (skipping the build output). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (full === WEB_DIST) continue;
    const mtime = entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs;
    newest = Math.max(newest, mtime);
  }
  return newest;
}

/**
 * Builds web/dist when it is missing or older than any console source, so the browser tests always drive the
 * console of this tree. Done here rather than in a vitest global setup: only a run that includes the browser
 * tests pays for (and can be broken by) a console build.
 */
export async function ensureConsoleBuilt(): Promise<void> {
  const index = path.join(WEB_DIST, 'index.html');
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= newestSource(WEB_DIR)) return;
  await build({ configFile: path.join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
}
