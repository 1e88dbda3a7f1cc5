import type { MessageKey } from './messages.en.js';

/** Values filled into a message's `{name}` placeholders. */
export type MessageValues = Readonly<Record<string, string | number>>;
/** The console's translation function for the chosen language. */
export type Translate = (key: MessageKey, values?: MessageValues) => string;
