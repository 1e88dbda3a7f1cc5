import type { BrokerDraft, FieldKey } from './broker-draft';

/** What every group of kind-specific fields gets from the form. */
export interface FieldsProps {
  readonly draft: BrokerDraft;
  readonly set: (patch: Partial<BrokerDraft>) => void;
  /** The worded problem of a field, once the person tried to save. */
  readonly errorOf: (key: FieldKey) => string | undefined;
  /** Paths of the secrets the server holds (`adminPassword`, `hook.token`, …). */
  readonly stored: ReadonlySet<string>;
  readonly readOnly: boolean;
}
