import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type BrokerDraft, draftOf } from '../../web/src/pages/brokers/broker-draft.js';
import { brokerSnippet } from '../../web/src/pages/brokers/broker-snippets.js';

/**
 * The Brokers page's "Configuration for the broker" and docs/brokers.md say the same thing: for the docs'
 * example values the console produces the docs' blocks to the character, so neither can drift alone.
 */
const DOCS = fs.readFileSync(new URL('../../docs/brokers.md', import.meta.url), 'utf8');
const ORIGIN = 'http://warden:8080';
/** Warden's shipped deny action, as in the docs' example. */
const DEFAULTS = { denyAction: 'ignore' } as const;

/** The first fenced block of `language` after `heading`, without the list indentation it may carry. */
function docsBlock(heading: string, language: string): string {
  const section = DOCS.slice(DOCS.indexOf(heading));
  const match = new RegExp(`^( *)\`\`\`${language}\\n([\\s\\S]*?)^\\1\`\`\`$`, 'm').exec(section);
  if (!match) throw new Error(`no ${language} block after ${heading}`);
  const indent = match[1] ?? '';
  return (match[2] ?? '')
    .split('\n')
    .map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line))
    .join('\n');
}

const example = (kind: BrokerDraft['kind'], patch: Partial<BrokerDraft> = {}): BrokerDraft => ({
  ...draftOf(null, kind),
  ...patch,
});

describe('console broker configuration snippets', () => {
  it('EMQX: the authentication and authorization blocks of the docs', () => {
    const draft = example('emqx', { token: { value: 'a-long-random-token-for-emqx', remove: false } });
    expect(brokerSnippet(ORIGIN, draft, DEFAULTS).text).toBe(docsBlock('## EMQX 5', 'hocon'));
  });

  it("EMQX: authorization.deny_action follows Warden's mqtt.denyAction", () => {
    const deny = (denyAction: 'ignore' | 'disconnect') =>
      brokerSnippet(ORIGIN, example('emqx'), { denyAction }).text.match(/^ {2}deny_action = (\w+) /m)?.[1];
    expect(deny('ignore')).toBe('ignore');
    expect(deny('disconnect')).toBe('disconnect');
  });

  it('mosquitto-go-auth: the HTTP backend block of the docs, with the chosen response mode', () => {
    expect(brokerSnippet(ORIGIN, example('go-auth'), DEFAULTS).text).toBe(
      docsBlock('## mosquitto-go-auth', 'conf'),
    );
    const json = brokerSnippet(
      'https://warden.example',
      example('go-auth', { responseMode: 'json' }),
      DEFAULTS,
    ).text;
    expect(json).toContain(
      'auth_opt_http_host warden.example\nauth_opt_http_port 443\nauth_opt_http_with_tls true\n',
    );
    expect(json).toContain('auth_opt_http_response_mode json      # must equal');
  });

  it('VerneMQ: the webhook block of the docs, with Basic credentials in the endpoint', () => {
    const draft = example('vernemq', {
      basicUsername: 'vernemq',
      basicPassword: { value: 'basic-password', remove: false },
    });
    expect(brokerSnippet(ORIGIN, draft, DEFAULTS).text).toBe(docsBlock('## VerneMQ', 'conf'));
    const stored = brokerSnippet(ORIGIN, example('vernemq', { basicUsername: 'vernemq' }), DEFAULTS).text;
    expect(stored).toContain('http://vernemq:<the basic auth password>@warden:8080/api/v1/hooks/vernemq/');
  });

  it('Mosquitto: the dynamic-security plugin lines of the docs, on the integration URL’s port', () => {
    const docs = docsBlock('3. Load the plugin', 'conf');
    const snippet = brokerSnippet(
      ORIGIN,
      example('mosquitto', { url: 'mqtt://mosquitto:1883' }),
      DEFAULTS,
    ).text;
    expect(snippet.split('\n').filter((line) => !line.startsWith('#'))).toEqual(docs.split('\n'));
    expect(
      brokerSnippet(ORIGIN, example('mosquitto', { url: 'mqtts://broker:8883' }), DEFAULTS).text,
    ).toContain('listener 8883\n');
  });

  it('never shows a stored secret: placeholders unless the person just typed one', () => {
    const emqx = brokerSnippet(ORIGIN, example('emqx'), DEFAULTS).text;
    expect(emqx).toContain('"authorization" = "Bearer <the bearer token>"');
    const mosquitto = brokerSnippet(
      ORIGIN,
      example('mosquitto', { adminPassword: { value: 'Dynsec-Adm1n!', remove: false } }),
      DEFAULTS,
    ).text;
    expect(mosquitto).not.toContain('Dynsec-Adm1n!');
  });
});
