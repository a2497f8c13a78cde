import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryIo, type MemoryIo } from '../testing/io.js';
import { buildProgram, COMMANDS } from './program.js';

/** Every command takes its output streams from buildProgram: nothing lands on process.stdout. */

afterEach(() => {
  vi.restoreAllMocks();
});

async function pertoken(...args: string[]): Promise<{ io: MemoryIo; leaked: string }> {
  const io = memoryIo();
  const leaked: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      leaked.push(String(chunk));
      return true;
    });
  }
  await buildProgram('0.0.0-test', io, {})
    .exitOverride()
    .parseAsync(args, { from: 'user' })
    .finally(() => vi.restoreAllMocks());
  return { io, leaked: leaked.join('') };
}

describe('buildProgram(version, io, env)', () => {
  it('builds every command from its (io, env) factory (COMMANDS is typed to that signature)', () => {
    const names = buildProgram('0.0.0-test', memoryIo(), {}).commands.map((c) => c.name());
    expect(names).toEqual(COMMANDS.map((make) => make(memoryIo(), {}).name()));
    expect(names).toEqual(expect.arrayContaining(['serve', 'report', 'chargeback', 'export', 'focus', 'seed']));
  });

  it('prices --format json lands in io.stdout', async () => {
    const { io, leaked } = await pertoken('prices', 'gpt-4o-mini', '--provider', 'openai', '--format', 'json');
    const rows = JSON.parse(io.out()) as Array<{ model: string }>;
    expect(rows[0]?.model).toBe('gpt-4o-mini');
    expect(leaked).toBe('');
  });

  it('estimate --format csv lands in io.stdout', async () => {
    const { io, leaked } = await pertoken(
      'estimate',
      '--model',
      'llama-3.1-8b',
      '--gpu',
      'h100-sxm',
      '--format',
      'csv',
    );
    expect(io.out().split('\n')[0]).toMatch(/^concurrency,ttft_ms,tpot_ms,/);
    expect(io.out().trimEnd().split('\n')).toHaveLength(5);
    expect(leaked).toBe('');
  });

  it("commander's own output (--version, help) goes to the io as well", async () => {
    const version = memoryIo();
    await expect(
      buildProgram('1.2.3', version, {}).exitOverride().parseAsync(['--version'], { from: 'user' }),
    ).rejects.toMatchObject({ code: 'commander.version' });
    expect(version.out()).toBe('1.2.3\n');
    const help = memoryIo();
    const program = buildProgram('1.2.3', help, {});
    const prices = program.commands.find((c) => c.name() === 'prices');
    prices?.exitOverride();
    await expect(program.exitOverride().parseAsync(['prices', '--help'], { from: 'user' })).rejects.toMatchObject({
      code: 'commander.helpDisplayed',
    });
    expect(help.out()).toContain('Usage: pertoken prices');
  });

  it('prices refuses --format csv naming the flag', async () => {
    await expect(pertoken('prices', '--format', 'csv')).rejects.toThrow('must be table or json, got "csv"');
  });
});
