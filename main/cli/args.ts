/** `--flag value` / `--flag=value` / `--switch` plus positional arguments; unknown flags are errors. */
export function parseArgs(
  argv: string[],
  spec: Record<string, 'string' | 'boolean'>,
): { flags: Record<string, string | boolean>; positional: string[] } {
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const kind = spec[name];
    if (!kind) throw new Error(`unknown option --${name}`);
    if (kind === 'boolean') flags[name] = inline === undefined ? true : inline !== 'false';
    else {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      flags[name] = value;
    }
  }
  return { flags, positional };
}

/** Flags only: a positional argument is an error. */
export function parseFlags(argv: string[], spec: Record<string, 'string' | 'boolean'>): Record<string, string | boolean> {
  const { flags, positional } = parseArgs(argv, spec);
  if (positional.length) throw new Error(`unexpected argument "${positional[0]}"`);
  return flags;
}
