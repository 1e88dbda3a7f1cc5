import { loadConfig } from '../../config/config.js';
import { startServer } from '../../server.js';
import { type CommandSpec, parse } from '../args.js';
import type { CliIo } from '../output.js';

export const SERVE: CommandSpec = {
  name: 'serve',
  summary: 'start the API, the console and the embedded MQTT broker until SIGTERM or SIGINT',
  json: false,
  notes: [
    'Configuration comes from the environment (docs/config.md). At the first start the root user is created;',
    'without WARDEN_ADMIN_PASSWORD its generated password is printed once.',
  ],
};

/** `warden serve`: API, console (and, with the MQTT feature, the embedded broker) until SIGTERM/SIGINT. */
export async function serveCommand(argv: readonly string[], io: CliIo): Promise<number> {
  parse(argv, SERVE);
  const config = loadConfig(io.env);
  const server = await startServer(config);
  const lines = [`Warden is running: ${server.url}  (API docs: ${server.url}/api/docs)`];
  const mqttUrls = [server.broker?.url, server.broker?.tlsUrl].filter((url) => url);
  lines.push(
    mqttUrls.length > 0
      ? `Embedded MQTT broker (MQTT 3.1.1): ${mqttUrls.join('  ')}`
      : 'Embedded MQTT broker: off (WARDEN_MQTT_PORT and WARDEN_MQTTS_PORT are 0)',
  );
  if (server.root.created && server.root.generatedPassword) {
    lines.push(
      '',
      'First start: the root user was created. Log in with',
      `  username: ${server.root.username}`,
      `  password: ${server.root.generatedPassword}`,
      'This password is shown only once and must be changed at first login.',
      'Set WARDEN_ADMIN_PASSWORD before the first start to choose it yourself.',
    );
  } else if (server.root.created) {
    lines.push('', `First start: root user "${server.root.username}" created with WARDEN_ADMIN_PASSWORD.`);
  } else {
    lines.push(`Log in as an existing admin. Lost access? Run: warden recover-admin`);
  }
  io.stdout(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      io.stdout(`${signal} received, shutting down\n`);
      server.close().then(resolve, (error: unknown) => {
        io.stderr(`shutdown error: ${String(error)}\n`);
        resolve();
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
