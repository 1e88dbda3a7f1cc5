import type { SecuritySettings } from '../../api/types.js';
import type { BrokerDraft } from './broker-draft.js';

/** What a refused PUBLISH leads to (the security setting `mqtt.denyAction`), so that every broker acts alike. */
export type DenyAction = SecuritySettings['mqtt']['denyAction'];

/**
 * The broker-side configuration for an integration, ready to paste: what docs/brokers.md shows, filled in with
 * this Warden's address, its deny action and the form's values. A stored secret is never known to the console, so it appears as
 * a placeholder unless the person just typed or generated it. test/console keeps these texts and the docs equal.
 */
export interface BrokerSnippet {
  /** Where the text goes (`emqx.conf`, a Mosquitto conf.d file …). */
  readonly file: string;
  readonly text: string;
}

const TOKEN_PLACEHOLDER = '<the bearer token>';
const PASSWORD_PLACEHOLDER = '<the basic auth password>';
const DYNSEC_FILE = '/var/lib/mosquitto/dynamic-security.json';
const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

function emqxSnippet(origin: string, draft: BrokerDraft, denyAction: DenyAction): BrokerSnippet {
  const token = draft.token.value || TOKEN_PLACEHOLDER;
  const headers = `headers { "content-type" = "application/json", "authorization" = "Bearer ${token}" }`;
  return {
    file: 'emqx.conf',
    text: `authentication = [{
  mechanism = password_based
  backend = http
  enable = true
  method = post
  url = "${origin}/api/v1/hooks/emqx/authn"
  ${headers}
  body { username = "\${username}", password = "\${password}", clientid = "\${clientid}", peerhost = "\${peerhost}" }
  request_timeout = 5s
}]

authorization {
  no_match = deny
  deny_action = ${denyAction}    # as Warden's mqtt.denyAction (Settings → Security)
  cache { enable = true, max_size = 32, ttl = 1m }
  sources = [{
    type = http
    enable = true
    method = post
    url = "${origin}/api/v1/hooks/emqx/authz"
    ${headers}
    body { username = "\${username}", clientid = "\${clientid}", topic = "\${topic}",
           action = "\${action}", qos = "\${qos}", retain = "\${retain}" }
    request_timeout = 5s
  }]
}
`,
  };
}

function goAuthSnippet(origin: string, draft: BrokerDraft): BrokerSnippet {
  const url = new URL(origin);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return {
    file: 'mosquitto.conf (go-auth)',
    text: `auth_plugin /mosquitto/go-auth.so
auth_opt_backends http
auth_opt_http_host ${url.hostname}
auth_opt_http_port ${port}
${url.protocol === 'https:' ? 'auth_opt_http_with_tls true\n' : ''}auth_opt_http_getuser_uri /api/v1/hooks/go-auth/user
auth_opt_http_aclcheck_uri /api/v1/hooks/go-auth/acl
# leave auth_opt_http_superuser_uri unset: Warden has no MQTT superusers (the endpoint always refuses)
auth_opt_http_method POST
auth_opt_http_params_mode json        # or form: both are accepted
auth_opt_http_response_mode ${draft.responseMode.padEnd(6)}    # must equal the integration's responseMode (status | json | text)
auth_opt_http_timeout 5
auth_opt_cache true
auth_opt_auth_cache_seconds 30
auth_opt_acl_cache_seconds 5          # revocations wait for this cache: go-auth has no purge API
`,
  };
}

function vernemqSnippet(origin: string, draft: BrokerDraft): BrokerSnippet {
  const url = new URL(origin);
  const user = draft.basicUsername.trim();
  const credentials = user
    ? `${encodeURIComponent(user)}:${draft.basicPassword.value ? encodeURIComponent(draft.basicPassword.value) : PASSWORD_PLACEHOLDER}@`
    : '';
  const endpoint = (hook: string) =>
    `${url.protocol}//${credentials}${url.host}/api/v1/hooks/vernemq/${hook}`;
  return {
    file: 'vernemq.conf',
    text: `plugins.vmq_passwd = off
plugins.vmq_acl = off
plugins.vmq_webhooks = on
vmq_webhooks.reg.hook = auth_on_register
vmq_webhooks.reg.endpoint = ${endpoint('auth_on_register')}
vmq_webhooks.pub.hook = auth_on_publish
vmq_webhooks.pub.endpoint = ${endpoint('auth_on_publish')}
vmq_webhooks.sub.hook = auth_on_subscribe
vmq_webhooks.sub.endpoint = ${endpoint('auth_on_subscribe')}
# MQTT 5 clients: the same three with _m5 (auth_on_register_m5, auth_on_publish_m5, auth_on_subscribe_m5)
`,
  };
}

/** The listener port of an `mqtt(s)://` URL, or the protocol's default. */
function listenerPort(brokerUrl: string): string {
  try {
    const url = new URL(brokerUrl);
    return url.port || (url.protocol === 'mqtts:' ? '8883' : '1883');
  } catch {
    return '1883';
  }
}

function mosquittoSnippet(draft: BrokerDraft): BrokerSnippet {
  const admin = draft.adminUsername.trim() || 'warden-sync';
  return {
    file: '/etc/mosquitto/conf.d/dynsec.conf',
    text: `# once, before the first start (the directory must be writable by the mosquitto user):
#   sudo mosquitto_ctrl dynsec init ${DYNSEC_FILE} ${admin}    (asks for the admin password)
#   sudo chown -R mosquitto: /var/lib/mosquitto
per_listener_settings false
listener ${listenerPort(draft.url)}
allow_anonymous false
plugin ${DYNSEC_PLUGIN}
plugin_opt_config_file ${DYNSEC_FILE}
`,
  };
}

/** The Warden settings a snippet repeats on the broker's side. */
export interface SnippetSettings {
  /** The security setting `mqtt.denyAction`: EMQX has the same choice (`authorization.deny_action`). */
  readonly denyAction: DenyAction;
}

/** The configuration a broker of the draft's kind needs to be governed by the Warden at `origin`. */
export function brokerSnippet(origin: string, draft: BrokerDraft, settings: SnippetSettings): BrokerSnippet {
  switch (draft.kind) {
    case 'mosquitto':
      return mosquittoSnippet(draft);
    case 'emqx':
      return emqxSnippet(origin, draft, settings.denyAction);
    case 'go-auth':
      return goAuthSnippet(origin, draft);
    case 'vernemq':
      return vernemqSnippet(origin, draft);
  }
}
