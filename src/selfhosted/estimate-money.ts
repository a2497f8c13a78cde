/**
 * USD-per-1M-token arithmetic of the estimator, in floats on purpose: an estimate comes out of a
 * model, so it has no exact value to keep. It is printed as a 9-decimal string like every amount
 * in pertoken's JSON. Exact money (pool prices, measured $/1M tokens) goes through `src/money.ts`.
 */

/** USD per 1M tokens of GPU time: $/GPU-h × GPUs × share of time / 3600 / tokens per second × 1e6. */
export function usdPerMillionTokensValue(
  priceUsdPerHour: string,
  gpus: number,
  tokensPerS: number,
  share: number,
): number {
  if (!(tokensPerS > 0)) return Number.POSITIVE_INFINITY;
  return (Number(priceUsdPerHour) * gpus * share * 1e6) / 3600 / tokensPerS;
}

/** An estimated USD figure as a 9-decimal string; null for no finite value (no throughput). */
export function formatEstimateUsd(value: number): string | null {
  return Number.isFinite(value) ? value.toFixed(9) : null;
}

export function usdPerMillionTokens(
  priceUsdPerHour: string,
  gpus: number,
  tokensPerS: number,
  share: number,
): string | null {
  return formatEstimateUsd(usdPerMillionTokensValue(priceUsdPerHour, gpus, tokensPerS, share));
}
