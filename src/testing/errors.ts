import { PertokenError } from '../errors.js';

/** Runs `fn` and returns the PertokenError it threw (fails the test when it throws anything else). */
export function thrownBy(fn: () => unknown): PertokenError {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof PertokenError) return err;
    throw new Error(`expected a PertokenError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a PertokenError, nothing was thrown');
}

/** The PertokenError `promise` rejects with (fails the test when it resolves or rejects otherwise). */
export async function rejectionOf(promise: Promise<unknown>): Promise<PertokenError> {
  try {
    await promise;
  } catch (err: unknown) {
    if (err instanceof PertokenError) return err;
    throw new Error(`expected a PertokenError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a PertokenError, the promise resolved');
}
