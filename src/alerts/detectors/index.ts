/** The detectors (each a `Detector`, detect.ts) and the set `serve` runs at every evaluation. */
import type { PriceBook } from '../../pricing/index.js';
import type { NamedDetector } from '../detect.js';
import { anomalyDetector } from './anomaly.js';
import { billingDriftDetector } from './billing.js';
import { budgetThresholdDetector, burnRateDetector, forecastOverBudgetDetector } from './budgets.js';
import { tokenInflationDetector } from './inflation.js';
import { keyAbuseDetector, requestLoopDetector } from './key-abuse.js';
import { cacheDropDetector, dataQualityDetector } from './quality.js';

export {
  anomalyDetector,
  billingDriftDetector,
  budgetThresholdDetector,
  burnRateDetector,
  cacheDropDetector,
  dataQualityDetector,
  forecastOverBudgetDetector,
  keyAbuseDetector,
  requestLoopDetector,
  tokenInflationDetector,
};

/** Every detector with the kinds it raises (a failed detector's kinds do not resolve). */
export function defaultDetectors(priceBook: PriceBook): NamedDetector[] {
  return [
    { name: 'anomaly', kinds: ['spend_anomaly', 'token_anomaly'], detect: anomalyDetector },
    { name: 'token_inflation', kinds: ['token_inflation'], detect: tokenInflationDetector },
    { name: 'data_quality', kinds: ['data_quality'], detect: dataQualityDetector },
    { name: 'billing_drift', kinds: ['data_quality'], detect: billingDriftDetector(priceBook) },
    { name: 'cache_drop', kinds: ['cache_drop'], detect: cacheDropDetector },
    { name: 'key_abuse', kinds: ['key_abuse'], detect: keyAbuseDetector },
    { name: 'request_loop', kinds: ['request_loop'], detect: requestLoopDetector },
    { name: 'burn_rate', kinds: ['burn_rate'], detect: burnRateDetector },
    { name: 'budget_threshold', kinds: ['budget_threshold'], detect: budgetThresholdDetector },
    { name: 'forecast_over_budget', kinds: ['forecast_over_budget'], detect: forecastOverBudgetDetector },
  ];
}
