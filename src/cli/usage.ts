import type { CommandGroup, CommandSpec, OptionSpec } from './args.js';

const HELP_LINE = { flag: '-h, --help', description: 'show this help' };
const JSON_LINE = { flag: '--json', description: 'print the result as JSON (errors too)' };

/** `--role R`, `--all`. */
function flagOf(name: string, option: OptionSpec): string {
  if (option.type !== 'string') return `--${name}`;
  return `--${name} ${option.value ?? 'VALUE'}${option.multiple ? '…' : ''}`;
}

/** Two columns, the left one padded to its widest entry; a long left entry puts its text on the next line. */
function columns(rows: ReadonlyArray<{ left: string; right: string }>, indent = '  '): string[] {
  const limit = 34;
  const width = Math.min(limit, Math.max(0, ...rows.map((row) => row.left.length)));
  return rows.flatMap(({ left, right }) =>
    left.length > width
      ? [`${indent}${left}`, `${indent}${' '.repeat(width)}  ${right}`]
      : [`${indent}${left.padEnd(width)}  ${right}`],
  );
}

/** `warden <command> --help`: what it does, its arguments and every option it takes. */
export function commandUsage(spec: CommandSpec): string {
  const optionRows = Object.entries(spec.options ?? {}).map(([name, option]) => ({
    left: flagOf(name, option),
    right: option.required ? `${option.description} (required)` : option.description,
  }));
  if (spec.json !== false) optionRows.push({ left: JSON_LINE.flag, right: JSON_LINE.description });
  optionRows.push({ left: HELP_LINE.flag, right: HELP_LINE.description });
  const lines = [
    `Usage: ${['warden', spec.name, spec.args].filter(Boolean).join(' ')}${optionRows.length > 1 ? ' [options]' : ''}`,
    '',
    `${spec.summary[0]?.toUpperCase() ?? ''}${spec.summary.slice(1)}.`,
    '',
    'Options:',
    ...columns(optionRows),
  ];
  if (spec.notes?.length) lines.push('', ...spec.notes);
  return `${lines.join('\n')}\n`;
}

/** `warden users --help`: the subcommands, one line each. */
export function groupUsage(group: CommandGroup): string {
  const rows = Object.values<CommandSpec>(group.subcommands).map((spec) => ({
    left: ['warden', spec.name, spec.args].filter(Boolean).join(' '),
    right: spec.summary,
  }));
  return [
    `Usage: warden ${group.name} <subcommand> [options]`,
    '',
    `${group.summary[0]?.toUpperCase() ?? ''}${group.summary.slice(1)}:`,
    '',
    ...columns(rows),
    '',
    `Run "warden ${group.name} <subcommand> --help" for its options.`,
    '',
  ].join('\n');
}

/** `warden --help`: every command, one line each. */
export function mainUsage(commands: ReadonlyArray<CommandSpec | CommandGroup>): string {
  const rows = commands.map((command) => ({
    left: command.name,
    right:
      'subcommands' in command
        ? `${command.summary} (${Object.keys(command.subcommands).join(', ')})`
        : command.summary,
  }));
  return [
    'Usage: warden <command> [<subcommand>] [options]',
    '',
    'Commands:',
    ...columns(rows),
    '',
    'Run "warden <command> --help" for its subcommands and options. Configuration comes from the environment',
    '(see docs/config.md). Add --json for machine-readable output; failures exit non-zero (2: bad usage).',
    '',
  ].join('\n');
}
