/**
 * Where `bench:alerts` loads pertoken from: the tree's own `dist/` (after `npm run build`), or
 * the build in PERTOKEN_DIST — e.g. of a given commit, so that figures can be compared across
 * detector changes on the same seeded ledger.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const DIST = process.env.PERTOKEN_DIST
  ? pathToFileURL(`${resolve(process.env.PERTOKEN_DIST)}/`).href
  : new URL('../dist/', import.meta.url).href;
const load = (path) => import(new URL(path, DIST).href);

export const { AlertService, defaultDetectors, openAlertStore } = await load('alerts/index.js');
export const { parseConfig } = await load('config/index.js');
export const { createSqliteStore, openBulkLoader } = await load('ledger/index.js');
export const { createPriceBook } = await load('pricing/index.js');
export const { generateSeedRows } = await load('seed/index.js');
