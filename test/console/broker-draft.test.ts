import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/core/crypto/secret-box.js';
import { prepareConfig, publicConfig } from '../../src/modules/brokers/broker-config.js';
import {
  BROKER_KINDS,
  type BrokerDraft,
  configOf,
  draftOf,
  draftProblems,
  fieldsOfPointers,
  generateToken,
} from '../../web/src/pages/brokers/broker-draft.js';

/**
 * The Brokers page's form logic against the server's own validation: what the form sends for each kind is
 * accepted as is, omitted secrets are kept, removed ones go, and the form's round trip through the API's
 * public shape is lossless.
 */
const box = createSecretBox(randomBytes(32).toString('base64url'));
const ID = 'a2f0c2a4-0d7b-4f3e-9d55-0a1c0c0f0e01';

function filled(kind: BrokerDraft['kind']): BrokerDraft {
  return {
    ...draftOf(null, kind),
    name: 'plant-1',
    url: 'mqtt://mosquitto:1883',
    adminPassword: { value: 'Dynsec-Adm1n!', remove: false },
    token: { value: generateToken(), remove: false },
    basicUsername: 'broker',
    basicPassword: { value: 'basic-secret', remove: false },
    managementUrl: 'http://emqx:18083',
    apiKey: 'key',
    apiSecret: { value: 'api-secret', remove: false },
  };
}

describe('console broker form', () => {
  it.each(BROKER_KINDS)('a new %s integration starts from the server’s own defaults, not a copy', (kind) => {
    // The form once offered 127.0.0.1/32 as "the server's default" while the server's was 127.0.0.0/8.
    const draft = draftOf(null, kind);
    const serverDefaults = prepareConfig({
      kind,
      id: ID,
      input: kind === 'mosquitto' ? { url: 'mqtt://m:1883', adminUsername: 'a', adminPassword: 'p' } : {},
      previous: null,
      box,
    });
    const sent = configOf({ ...draft, url: 'mqtt://m:1883', adminUsername: 'a' }) as Record<string, unknown>;
    for (const [key, value] of Object.entries(serverDefaults)) {
      if (key === 'adminPassword' || key === 'url' || key === 'adminUsername') continue;
      expect(sent[key], key).toEqual(value);
    }
  });

  it.each(BROKER_KINDS)('sends %s settings the server accepts, and reads them back unchanged', (kind) => {
    const draft = filled(kind);
    expect([...draftProblems(draft, new Set(), true).keys()]).toEqual([]);
    const stored = prepareConfig({ kind, id: ID, input: configOf(draft), previous: null, box });
    const shown = publicConfig(kind, stored);
    const broker = {
      name: 'plant-1',
      kind,
      enabled: true,
      config: shown.config,
      secrets: shown.secrets,
      version: 1,
      createdAt: '',
      updatedAt: '',
    };
    const reread = draftOf(broker);
    // Secrets never come back; everything else does.
    const secretless = (d: BrokerDraft) => ({
      ...d,
      name: '',
      adminPassword: null,
      token: null,
      basicPassword: null,
      apiSecret: null,
    });
    const relevant =
      kind === 'mosquitto' ? ['url', 'adminUsername', 'timeoutMs'] : ['allowFrom', 'basicUsername'];
    for (const key of relevant) {
      expect(secretless(reread)[key as keyof BrokerDraft]).toEqual(
        secretless(draft)[key as keyof BrokerDraft],
      );
    }
    // An edit that leaves every secret empty keeps them all.
    const kept = prepareConfig({ kind, id: ID, input: configOf(reread), previous: stored, box });
    expect(publicConfig(kind, kept).secrets.sort()).toEqual([...shown.secrets].sort());
    expect(kept).toEqual(stored);
  });

  it('removes a clearable secret only when asked', () => {
    const draft = filled('vernemq');
    const stored = prepareConfig({ kind: 'vernemq', id: ID, input: configOf(draft), previous: null, box });
    const reread = draftOf({
      name: 'plant-1',
      kind: 'vernemq',
      enabled: true,
      ...publicConfig('vernemq', stored),
      version: 1,
      createdAt: '',
      updatedAt: '',
    });
    const input = configOf({ ...reread, token: { value: '', remove: true } });
    const next = prepareConfig({ kind: 'vernemq', id: ID, input, previous: stored, box });
    expect(publicConfig('vernemq', next).secrets).toEqual(['hook.basic.password']);
  });

  it('catches what a person fixes while typing, per field', () => {
    const draft = {
      ...filled('emqx'),
      name: 'x',
      token: { value: 'short', remove: false },
      allowFrom: ['10.0.0.0/8', 'not a network'],
      apiKey: '',
    };
    expect(Object.fromEntries(draftProblems(draft, new Set(), true))).toEqual({
      name: 'name',
      'hook.token': 'tokenLength',
      'hook.allowFrom': 'cidr',
      apiKey: 'required',
    });
    const mosquitto = { ...draftOf(null, 'mosquitto'), url: 'http://x' };
    expect(Object.fromEntries(draftProblems(mosquitto, new Set(), false))).toEqual({
      url: 'mqttUrl',
      adminPassword: 'required',
    });
    // A stored admin password satisfies "required" without being typed again.
    expect(
      draftProblems({ ...mosquitto, url: 'mqtts://b:8883' }, new Set(['adminPassword']), false).size,
    ).toBe(0);
  });

  it('maps the server problem pointers to form fields', () => {
    expect(
      fieldsOfPointers([
        '/config/hook/allowFrom/2',
        '/config/url',
        '/name',
        undefined,
        '/config/hook/basic/password',
      ]),
    ).toEqual(new Set(['hook.allowFrom', 'url', 'hook.basic.password']));
  });

  it('generates distinct 256-bit tokens the server takes', () => {
    const tokens = new Set(Array.from({ length: 100 }, generateToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
