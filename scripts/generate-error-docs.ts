import fs from 'node:fs';
import { renderErrorDocs } from '../src/error-catalog.js';

fs.writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
process.stdout.write('docs/errors.md written\n');
