/** `npm run gen:api`: writes the console's generated API files (see scripts/api-artifacts.ts). */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateApiArtifacts } from './api-artifacts.js';

for (const artifact of await generateApiArtifacts()) {
  fs.writeFileSync(fileURLToPath(new URL(`../${artifact.path}`, import.meta.url)), artifact.text);
  process.stdout.write(`${artifact.path} written\n`);
}
