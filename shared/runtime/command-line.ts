/** What a bundle's command line accepts: each command with the words of its usage and what it does. */
export type Commands = Record<string, { usage?: string; does: string }>;

/**
 * Reads a bundle's command line before anything starts: no argument is `fallback`; `help`, `--help` and `-h`
 * print the commands and exit 0; an unknown command or flag prints one line naming it and exits 2, so that a
 * typo never starts a server or applies migrations.
 */
export function readCommand(
  bundle: string,
  commands: Commands,
  fallback: string,
  argv: string[],
): { command: string; args: string[] } {
  const [first, ...args] = argv;
  if (first === undefined) return { command: fallback, args: [] };
  if (first === 'help' || first === '--help' || first === '-h') {
    process.stdout.write(helpText(bundle, commands, fallback));
    process.exit(0);
  }
  if (!Object.hasOwn(commands, first)) {
    const what = first.startsWith('-') ? 'option' : 'command';
    process.stderr.write(
      `${bundle}: unknown ${what} ${JSON.stringify(first)}; run \`node ${bundle} help\` for the commands\n`,
    );
    process.exit(2);
  }
  return { command: first, args };
}

/** Refuses a command's missing or extra words with its usage, exit 2. */
export function requireArgs(
  bundle: string,
  command: string,
  commands: Commands,
  args: string[],
  count: { min: number; max: number },
) {
  if (args.length >= count.min && args.length <= count.max) return;
  const usage = `node ${bundle} ${command}${commands[command]?.usage ? ` ${commands[command]?.usage}` : ''}`;
  process.stderr.write(`${bundle} ${command}: expected ${describeCount(count)}; usage: ${usage}\n`);
  process.exit(2);
}

function describeCount({ min, max }: { min: number; max: number }): string {
  if (min === max) return min === 0 ? 'no arguments' : `${min} argument${min === 1 ? '' : 's'}`;
  return `${min} to ${max} arguments`;
}

function helpText(bundle: string, commands: Commands, fallback: string): string {
  const lines = Object.entries(commands).map(([name, { usage, does }]) => {
    const words = `${name}${usage ? ` ${usage}` : ''}`;
    return `  ${words.padEnd(24)} ${does}${name === fallback ? ' (the default)' : ''}`;
  });
  return `usage: node ${bundle} [command]\n\ncommands:\n${lines.join('\n')}\n  ${'help'.padEnd(24)} this list\n`;
}
