#!/usr/bin/env node
// The npm bin: runs the compiled CLI. `npm run build` (or `npm start`) produces dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('warden: dist/ is missing; run `npm run build` first (npm start does it for you)\n');
  process.exit(1);
}
await import(entry.href);
