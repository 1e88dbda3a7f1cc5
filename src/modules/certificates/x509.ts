// @peculiar/x509 declares its ASN.1 structures with TypeScript decorators that read and write design-time
// metadata through the Reflect metadata API, which `reflect-metadata` installs; it must be loaded before the
// library's first module runs. This module is the only one that imports the library, so every user of X.509
// in Warden gets it in that order.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's WebCrypto, named explicitly instead of relying on the library finding a global one.
x509.cryptoProvider.set(webcrypto as typeof globalThis.crypto);

export { x509 };
