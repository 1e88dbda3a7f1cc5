/**
 * The exact HTTP requests each broker sends to Warden's hooks (docs/broker-protocols.md), for replay in
 * tests: same paths, content types, field names and value types (EMQX renders every value as a string;
 * go-auth sends `acc` as a JSON number, or as a string in form mode; VerneMQ sends numbers and booleans and a
 * `vernemq-hook` header).
 */

export interface ReplayRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload: string;
}

const json = (url: string, body: unknown, headers: Record<string, string> = {}): ReplayRequest => ({
  url,
  headers: { 'content-type': 'application/json', ...headers },
  payload: JSON.stringify(body),
});

/** EMQX strips `$share/<group>/` from a subscription before it asks (`emqx_topic:get_shared_real_topic/1`). */
export function emqxRealTopic(topic: string): string {
  const match = /^\$share\/[^/]+\/(.+)$/.exec(topic);
  return match ? (match[1] as string) : topic;
}

/** EMQX 5 authn, body template `{username, password, clientid, peerhost}` rendered to strings. */
export function emqxAuthn(input: {
  username: string;
  password: string;
  clientid: string;
  peerhost?: string;
}): ReplayRequest {
  return json('/api/v1/hooks/emqx/authn', {
    username: input.username,
    password: input.password,
    clientid: input.clientid,
    peerhost: input.peerhost ?? '10.0.0.7',
    cert_common_name: '',
  });
}

/** EMQX 5 authz, body template `{username, clientid, topic, action, qos, retain}` rendered to strings. */
export function emqxAuthz(input: {
  username: string;
  clientid: string;
  action: 'publish' | 'subscribe';
  topic: string;
  qos: number;
  retain: boolean;
}): ReplayRequest {
  return json('/api/v1/hooks/emqx/authz', {
    username: input.username,
    clientid: input.clientid,
    topic: input.action === 'subscribe' ? emqxRealTopic(input.topic) : input.topic,
    action: input.action,
    qos: String(input.qos),
    retain: String(input.retain),
  });
}

/** mosquitto-go-auth HTTP backend, JSON params mode (`acc` a number). */
export function goAuthAcl(input: {
  username: string;
  clientid: string;
  topic: string;
  acc: 1 | 2 | 4;
}): ReplayRequest {
  return json('/api/v1/hooks/go-auth/acl', input);
}

/** mosquitto-go-auth HTTP backend, form params mode (every value a string). */
export function goAuthAclForm(input: {
  username: string;
  clientid: string;
  topic: string;
  acc: 1 | 2 | 4;
}): ReplayRequest {
  return {
    url: '/api/v1/hooks/go-auth/acl',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ...input, acc: String(input.acc) }).toString(),
  };
}

export function goAuthUser(input: { username: string; password: string; clientid: string }): ReplayRequest {
  return json('/api/v1/hooks/go-auth/user', input);
}

/** VerneMQ webhook: POST to the endpoint with the hook in the `vernemq-hook` header. */
function vernemq(hook: string, body: unknown): ReplayRequest {
  return json(`/api/v1/hooks/vernemq/${hook}`, body, { 'vernemq-hook': hook });
}

export function vernemqRegister(input: {
  username: string;
  password: string;
  clientid: string;
  m5?: boolean;
}): ReplayRequest {
  return vernemq(input.m5 ? 'auth_on_register_m5' : 'auth_on_register', {
    peer_addr: '127.0.0.1',
    peer_port: 8888,
    username: input.username,
    password: input.password,
    mountpoint: '',
    client_id: input.clientid,
    ...(input.m5 ? { clean_start: true, properties: {} } : { clean_session: false }),
  });
}

export function vernemqPublish(input: {
  username: string;
  clientid: string;
  topic: string;
  qos: number;
  retain: boolean;
  m5?: boolean;
}): ReplayRequest {
  return vernemq(input.m5 ? 'auth_on_publish_m5' : 'auth_on_publish', {
    username: input.username,
    client_id: input.clientid,
    mountpoint: '',
    qos: input.qos,
    topic: input.topic,
    payload: Buffer.from('hello').toString('base64'),
    retain: input.retain,
    ...(input.m5 ? { properties: {} } : {}),
  });
}

export function vernemqSubscribe(input: {
  username: string;
  clientid: string;
  topics: Array<{ topic: string; qos: number }>;
  m5?: boolean;
}): ReplayRequest {
  return vernemq(input.m5 ? 'auth_on_subscribe_m5' : 'auth_on_subscribe', {
    username: input.username,
    client_id: input.clientid,
    mountpoint: '',
    topics: input.m5
      ? input.topics.map((topic) => ({
          ...topic,
          no_local: false,
          rap: false,
          retain_handling: 'send_retain',
        }))
      : input.topics,
    ...(input.m5 ? { properties: {} } : {}),
  });
}
