import { test } from 'vitest';
import { estimateCommand } from '../cli/estimate.js';
test('cli', async () => {
  const args = (process.env.ARGS ?? '').split(' ').filter(Boolean);
  const cmd = estimateCommand();
  cmd.exitOverride();
  try { await cmd.parseAsync(args, { from: 'user' }); } catch (e) { console.log(String(e), (e as { param?: string }).param); }
});
