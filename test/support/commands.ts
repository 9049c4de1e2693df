import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';

/**
 * Runs a command to its end and collects what it printed (stdout and stderr together). With `env`, the command
 * gets exactly that environment plus PATH and HOME (none of this vitest run's variables); without, it inherits.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ code: number | null; output: string }> {
  const env = options.env
    ? { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...options.env }
    : process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}
