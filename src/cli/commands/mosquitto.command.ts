import fs from 'node:fs';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { Services } from '../../services.js';
import { defineGroup, type OptionSpec, optionalString, parse } from '../args.js';
import { type CliIo, emit, UsageError } from '../output.js';
import { groupUsage } from '../usage.js';
import { describeReport } from './brokers.command.js';

const INTEGRATION: OptionSpec = {
  type: 'string',
  value: 'NAME',
  description: 'the Mosquitto integration (needed when there is more than one)',
};

export const MOSQUITTO = defineGroup('mosquitto', 'Mosquitto dynamic-security sync and export', {
  sync: {
    summary: 'full reconcile with the broker: print the diff and the dynsec commands, and send them',
    options: {
      'dry-run': { type: 'boolean', description: 'only print the commands, do not send them' },
      integration: INTEGRATION,
    },
  },
  'export-dynsec': {
    summary: 'write dynamic-security.json for a broker that is not running yet',
    options: {
      out: { type: 'string', value: 'FILE', description: 'write it here, mode 0600 (default: stdout)' },
      integration: INTEGRATION,
    },
    json: false,
    notes: ['The file holds password hashes: keep it readable by the mosquitto user only.'],
  },
});

/** `warden mosquitto …`: sync and export for Mosquitto dynamic security. */
export async function mosquittoCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { brokers } = services;
  const specs = MOSQUITTO.subcommands;
  switch (sub) {
    case 'sync': {
      const { values, json } = parse(rest, specs.sync);
      const name = await brokers.mosquittoName(optionalString(values, 'integration'));
      const report = await brokers.sync(CLI_CONTEXT, name, { dryRun: values['dry-run'] === true });
      emit(io, json, report, () => describeReport(report));
      return 0;
    }
    case 'export-dynsec': {
      const { values } = parse(rest, specs['export-dynsec']);
      const exported = await brokers.exportDynsec(optionalString(values, 'integration'));
      const text = `${JSON.stringify(exported.document, null, 2)}\n`;
      const out = optionalString(values, 'out');
      // The file holds password hashes: readable by its owner only (chown it to the mosquitto user).
      if (out === undefined) io.stdout(text);
      else fs.writeFileSync(out, text, { mode: 0o600 });
      if (out !== undefined) io.stderr(`Wrote ${out}\n`);
      if (exported.withoutPassword.length > 0) {
        io.stderr(
          `${exported.withoutPassword.length} user(s) exported without a password (Warden does not know it; set a new one): ${exported.withoutPassword.join(', ')}\n`,
        );
      }
      for (const warning of exported.warnings) io.stderr(`warning: ${warning}\n`);
      return 0;
    }
    default:
      throw new UsageError(groupUsage(MOSQUITTO));
  }
}
