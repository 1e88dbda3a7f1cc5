import fs from 'node:fs';
import { CLI_CONTEXT } from '../../modules/permissions/operation-context.js';
import type { Services } from '../../services.js';
import { optionalString, parse } from '../args.js';
import { type CliIo, emit, UsageError } from '../output.js';
import { describeReport } from './brokers.command.js';

export const MOSQUITTO_USAGE = `warden mosquitto sync [--dry-run] [--integration NAME] [--json]
                      (full reconcile with the broker; --dry-run prints the dynsec commands without sending them)
warden mosquitto export-dynsec [--out FILE] [--integration NAME]
                      (dynamic-security.json for a broker that is not running yet; stdout without --out)`;

/** `warden mosquitto …`: sync and export for Mosquitto dynamic security. */
export async function mosquittoCommand(
  services: Services,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  const [sub, ...rest] = argv;
  const { brokers } = services;
  switch (sub) {
    case 'sync': {
      const { values, json } = parse(rest, {
        'dry-run': { type: 'boolean' },
        integration: { type: 'string' },
      });
      const name = await brokers.mosquittoName(optionalString(values, 'integration'));
      const report = await brokers.sync(CLI_CONTEXT, name, { dryRun: values['dry-run'] === true });
      emit(io, json, report, () => describeReport(report));
      return 0;
    }
    case 'export-dynsec': {
      const { values } = parse(rest, { out: { type: 'string' }, integration: { type: 'string' } });
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
      throw new UsageError(MOSQUITTO_USAGE);
  }
}
