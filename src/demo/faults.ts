import { invalidInput, type PertokenError } from '../errors.js';

/**
 * Fault injection. A request picks faults with the `x-demo-fault` header (comma-separated specs,
 * e.g. `slow-headers:300,cut-after:2`), otherwise the server's `script` applies. The header wins so
 * that a gateway test can script one request without restarting the upstream.
 *
 * - `reset`           destroy the socket before any response byte.
 * - `status:CODE`     reply CODE with the provider's error body (429/503/529 carry `retry-after: 1`).
 * - `slow-headers:MS` wait MS before the response headers; the whole latency schedule (TTFT, ITL,
 *                     non-stream delay) shifts by MS.
 * - `cut-after:N`     streams: destroy the socket right after the N-th content chunk (N beyond the
 *                     last chunk cuts after the last one), so no usage and no terminator arrive.
 *                     Non-streams: send the headers and the first N bytes of the body, then destroy.
 * - `stall-after:N`   like cut-after, but keep the socket open and silent until the client leaves
 *                     or the server closes.
 * - `no-usage`        omit every usage object (chunk, event field or body field).
 * - `broken-sse`      streams: write a malformed event (`data: {not json`) after the first content
 *                     chunk, then continue normally. Non-streams: the JSON body loses its last byte.
 */
export type FaultSpec =
  | 'reset'
  | 'no-usage'
  | 'broken-sse'
  | `cut-after:${number}`
  | `stall-after:${number}`
  | `status:${number}`
  | `slow-headers:${number}`;

export interface FaultContext {
  /** 0-based arrival index of the request on this server. */
  index: number;
  method: string;
  path: string;
  /** The `model` of the JSON body, when there is one. */
  model: string | null;
}

export type FaultScript =
  FaultSpec | readonly FaultSpec[] | ((ctx: FaultContext) => FaultSpec | readonly FaultSpec[] | null | undefined);

export interface Faults {
  reset: boolean;
  noUsage: boolean;
  brokenSse: boolean;
  cutAfter: number | null;
  stallAfter: number | null;
  status: number | null;
  slowHeadersMs: number;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  reset: false,
  noUsage: false,
  brokenSse: false,
  cutAfter: null,
  stallAfter: null,
  status: null,
  slowHeadersMs: 0,
});

/** Parses specs (an array, or one comma-separated string); throws PertokenError('invalid_header'). */
export function parseFaults(specs: string | readonly string[]): Faults {
  const list = typeof specs === 'string' ? specs.split(',') : specs;
  const faults: Faults = { ...NO_FAULTS };
  for (const raw of list) {
    const spec = raw.trim();
    if (spec === '' || spec === 'none') continue;
    if (spec === 'reset') faults.reset = true;
    else if (spec === 'no-usage') faults.noUsage = true;
    else if (spec === 'broken-sse') faults.brokenSse = true;
    else {
      const colon = spec.indexOf(':');
      const name = colon < 0 ? spec : spec.slice(0, colon);
      const arg = colon < 0 ? '' : spec.slice(colon + 1);
      const value = /^\d+$/.test(arg) ? Number(arg) : Number.NaN;
      if (!Number.isSafeInteger(value)) throw unknownFault(spec);
      if (name === 'cut-after') faults.cutAfter = value;
      else if (name === 'stall-after') faults.stallAfter = value;
      else if (name === 'slow-headers') faults.slowHeadersMs = value;
      else if (name === 'status' && value >= 100 && value <= 599) faults.status = value;
      else throw unknownFault(spec);
    }
  }
  return faults;
}

/** The faults of one request: its header if present, else the server script. */
export function resolveFaults(
  header: string | string[] | undefined,
  script: FaultScript | undefined,
  ctx: FaultContext,
): Faults {
  if (header !== undefined) return parseFaults(Array.isArray(header) ? header.join(',') : header);
  if (script === undefined) return NO_FAULTS;
  const specs = typeof script === 'function' ? script(ctx) : script;
  if (specs === null || specs === undefined) return NO_FAULTS;
  return parseFaults(typeof specs === 'string' ? [specs] : specs);
}

/** The message lists every fault so that a typo in a test script says what would have worked. */
function unknownFault(spec: string): PertokenError {
  return invalidInput(
    'x-demo-fault',
    `x-demo-fault: unknown fault "${spec}" (expected reset, no-usage, broken-sse, cut-after:N, ` +
      'stall-after:N, status:CODE or slow-headers:MS)',
    'invalid_header',
  );
}
