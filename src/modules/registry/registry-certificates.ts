import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { OperationContext } from '../permissions/operation-context.js';

/**
 * What the registry needs of Warden's certificate authority: checking a device's CSR when its request arrives,
 * and issuing its certificate inside the approval's transaction.
 */
export interface RegistryCertificates {
  caCertificatePem(): Promise<string>;
  checkCsr(csrPem: string, username: string): Promise<void>;
  issue(
    csrPem: string,
    username: string,
    options: { validityDays: number; trx?: Kysely<Database>; context?: OperationContext },
  ): Promise<{ certificatePem: string; chainPem: string; serialNumber: string; notAfter: string }>;
}
