// The scripted upstream: pertoken's own demo server from the built output, timing set by the parent.
import { startDemoUpstream } from '../dist/demo/index.js';
import { runChild } from './child.mjs';

runChild(async ({ ttftMs, itlMs, outputTokens }) => {
  // Fixed seed and output length: every request generates the same number of tokens.
  const demo = await startDemoUpstream({ ttftMs, itlMs, seed: 42, maxOutputTokens: outputTokens });
  return { url: demo.url, close: () => demo.close() };
});
