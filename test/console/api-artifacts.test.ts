import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateApiArtifacts } from '../../scripts/api-artifacts.js';

/**
 * The console's API types and the broker defaults it reads are generated from the server's OpenAPI document; a
 * route schema changed without `npm run gen:api` fails here instead of drifting silently.
 */
describe('generated console API files', () => {
  it('web/src/api/schema.d.ts and web/src/api/defaults.ts are current (run npm run gen:api)', async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    for (const artifact of await generateApiArtifacts()) {
      expect(fs.readFileSync(path.join(root, artifact.path), 'utf8'), artifact.path).toBe(artifact.text);
    }
  }, 60_000);
});
