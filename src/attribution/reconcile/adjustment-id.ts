/**
 * The id of the adjustment `reconcile --apply` appends for one row. Deterministic, so a second
 * --apply adds nothing (the ledger ignores a recorded id), and it names the bucket, which the
 * ledger's adjustments do not carry: the engine reads its own adjustments back and books each on
 * its bucket instead of spreading it over the group's buckets by price.
 *
 *   reconcile:<day>:<bucket|->:<code>:<provider>:<tenant>:<project|->:<model|->
 *
 * When the dimensions hold characters an id may not (`@ / +`) or the id passes 128 characters, the
 * part after the code is a SHA-256 of it instead; day, bucket and code stay readable.
 */
import { createHash } from 'node:crypto';
import { EVENT_ID } from '../../ids.js';
import { BUCKETS, type Bucket } from '../../usage/index.js';
import type { ReconciliationRow } from './engine.js';

export const RECONCILE_ID_PREFIX = 'reconcile:';

export function reconcileAdjustmentId(row: ReconciliationRow): string {
  const head = `${RECONCILE_ID_PREFIX}${row.day}:${row.bucket ?? '-'}:${row.explanation.code}:`;
  const rest = [row.provider, row.tenant ?? '-', row.project ?? '-', row.model ?? '-'].join(':');
  const readable = head + rest;
  if (EVENT_ID.pattern.test(readable)) return readable;
  return head + createHash('sha256').update(rest).digest('hex').slice(0, 32);
}

/** The bucket a reconcile adjustment closes (null: a cost-only line); undefined when the id is not one. */
export function bucketOfReconcileId(id: string): Bucket | null | undefined {
  if (!id.startsWith(RECONCILE_ID_PREFIX)) return undefined;
  const bucket = id.split(':')[2];
  if (bucket === '-') return null;
  return BUCKETS.find((b) => b === bucket);
}
