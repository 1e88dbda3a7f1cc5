/**
 * Runs the Eclipse Paho MQTT 3.1.1 interoperability client test against `warden serve`'s embedded broker
 * (docs/mqtt.md, "Interoperability"). The test suite is not part of this repository: pass a checkout of the
 * public repository eclipse/paho.mqtt.testing. Its clients connect with the credentials of a user whose only
 * access role is "everything except one carve-out", which its subscribe-failure test relies on:
 *
 *   deny subscribe test/nosubscribe, then allow all #
 *
 * Usage: npm run interop:paho -- /path/to/paho.mqtt.testing
 * Needs python3 (the suite uses only its standard library). Prints the suite's output; exits with its code.
 */

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCliCaptured } from '../test/helpers/cli.js';
import { startWarden } from '../test/helpers/warden-process.js';

const USERNAME = 'paho-interop';
const PASSWORD = 'Paho-interop-1!';
const ROLE = 'paho-carve-out';

/**
 * The suite's client takes `username` and `password` in `connect()` but never passes them: this shim gives every
 * connect the user's credentials, then runs the suite unchanged as its own main module. The suite reads its host
 * and port from the command line and then hands the same command line to unittest, which does not know them:
 * unittest gets the bare program name instead.
 */
const SHIM = `
import runpy, sys, unittest
suite_dir, host, port, username, password = sys.argv[1:6]
sys.path.insert(0, suite_dir)
import mqtt.clients.V311 as client
plain_connect = client.Client.connect
def connect(self, *args, **kwargs):
    kwargs.setdefault("username", username)
    kwargs.setdefault("password", password.encode())
    return plain_connect(self, *args, **kwargs)
client.Client.connect = connect
plain_main = unittest.main
unittest.main = lambda *args, **kwargs: plain_main(*args, argv=["client_test.py", "-v"], **kwargs)
sys.argv = ["client_test.py", "--hostname=" + host, "--port=" + port]
runpy.run_path(suite_dir + "/client_test.py", run_name="__main__")
`;

async function cli(env: Record<string, string>, args: string[], stdin?: string): Promise<void> {
  const result = await runCliCaptured(env, args, stdin === undefined ? {} : { stdin });
  if (result.code !== 0) throw new Error(`warden ${args.join(' ')} failed: ${result.err}`);
}

async function main(): Promise<number> {
  const checkout = process.argv[2];
  const suiteDir = checkout ? path.resolve(checkout, 'interoperability') : '';
  if (!checkout || !fs.existsSync(path.join(suiteDir, 'client_test.py'))) {
    console.error(
      'usage: npm run interop:paho -- /path/to/paho.mqtt.testing (a checkout of eclipse/paho.mqtt.testing)',
    );
    return 2;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-paho-'));
  const env = { WARDEN_DATA_DIR: dataDir, WARDEN_ADMIN_PASSWORD: 'Paho-admin-1!', WARDEN_LOG_LEVEL: 'warn' };
  const server = await startWarden(env);
  try {
    await cli(env, ['access-roles', 'create', ROLE]);
    for (const [permission, action, topic] of [
      ['deny', 'subscribe', 'test/nosubscribe'],
      ['allow', 'all', '#'],
    ] as const) {
      await cli(env, [
        'access-roles',
        'add-rule',
        ROLE,
        '--permission',
        permission,
        '--action',
        action,
        '--topic',
        topic,
      ]);
    }
    await cli(
      env,
      [
        'users',
        'create',
        USERNAME,
        '--role',
        'viewer',
        '--kind',
        'service',
        '--access-roles',
        ROLE,
        '--password-stdin',
      ],
      PASSWORD,
    );
    const broker = new URL(server.mqttUrl as string);
    const shim = path.join(dataDir, 'paho_shim.py');
    fs.writeFileSync(shim, SHIM);
    console.log(`Paho interoperability client test against ${broker.href} as ${USERNAME} (role ${ROLE})`);
    const python = spawn('python3', [shim, suiteDir, broker.hostname, broker.port, USERNAME, PASSWORD], {
      stdio: 'inherit',
      cwd: suiteDir,
    });
    return await new Promise<number>((resolve) => python.once('exit', (code) => resolve(code ?? 1)));
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
