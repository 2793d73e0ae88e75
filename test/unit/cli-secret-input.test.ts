// The commands that take a persona export steer users to `-` (stdin) or `@FILE`, since an argument shows up in ps and history.
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';

function find(program: Command, path: string[]): Command {
  let cmd = program;
  for (const name of path) {
    const next = cmd.commands.find((c) => c.name() === name);
    if (!next) throw new Error(`no command ${path.join(' ')}`);
    cmd = next;
  }
  return cmd;
}

describe('help for secret inputs', () => {
  it('init --import and persona import recommend stdin or @FILE and warn about ps/history', () => {
    const program = buildProgram();
    for (const path of [['init'], ['persona', 'import']]) {
      const help = find(program, path).helpInformation().replace(/\s+/g, ' ');
      expect(help, path.join(' ')).toMatch(/- to read it from stdin or @FILE \(recommended\)/);
      expect(help, path.join(' ')).toMatch(/visible in ps and shell history/);
    }
  });
});
