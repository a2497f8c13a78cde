import { describe, expect, it } from 'vitest';
import { PertokenError } from '../../errors.js';
import { isRowDataError, isTransientDatabaseError, toStoreError } from './errors.js';

/** Error shapes as node, pg and PostgreSQL produce them. */
function withCode(code: string, message = `failed with ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

describe('isTransientDatabaseError', () => {
  it.each([
    ['ECONNREFUSED', withCode('ECONNREFUSED')],
    ['ECONNRESET', withCode('ECONNRESET')],
    ['admin shutdown 57P01', withCode('57P01')],
    ['cannot connect now 57P03', withCode('57P03')],
    ['connection failure class 08', withCode('08006')],
    ['too many connections 53300', withCode('53300')],
    ['deadlock 40P01', withCode('40P01')],
    ['serialization 40001', withCode('40001')],
    ['pg query timeout', new Error('Query read timeout')],
    ['pg lost connection', new Error('Connection terminated unexpectedly')],
    ['pg connect timeout', new Error('timeout exceeded when trying to connect')],
    ['happy eyeballs', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'x')],
    [
      'wrapped by the store',
      new PertokenError('store_unavailable', 'ledger migration failed', { cause: withCode('ECONNREFUSED') }),
    ],
  ])('%s is transient', (_name, err) => {
    expect(isTransientDatabaseError(err)).toBe(true);
  });

  it.each([
    ['bad password 28P01', withCode('28P01')],
    ['unknown database 3D000', withCode('3D000')],
    ['undefined table 42P01', withCode('42P01')],
    ['NUL in text 22021', withCode('22021')],
    ['not an error', 'just a string'],
    ['null', null],
  ])('%s is not transient', (_name, err) => {
    expect(isTransientDatabaseError(err)).toBe(false);
  });
});

describe('isRowDataError', () => {
  it('is true for data exceptions, integrity violations and our own validation', () => {
    expect(isRowDataError(withCode('22021'))).toBe(true);
    expect(isRowDataError(withCode('22P05'))).toBe(true);
    expect(isRowDataError(withCode('23502'))).toBe(true);
    expect(isRowDataError(new PertokenError('invalid_request', 'bad id'))).toBe(true);
  });

  it('is false for what is wrong with the database rather than the row', () => {
    expect(isRowDataError(withCode('ECONNREFUSED'))).toBe(false);
    expect(isRowDataError(withCode('28P01'))).toBe(false);
    expect(isRowDataError(withCode('42P01'))).toBe(false);
    expect(isRowDataError(new PertokenError('store_unavailable', 'closed'))).toBe(false);
  });
});

describe('toStoreError', () => {
  it('turns a transient failure into store_unavailable and keeps it as cause', () => {
    const cause = withCode('ECONNREFUSED');
    const err = toStoreError(cause, 'cost query failed');
    expect(err).toBeInstanceOf(PertokenError);
    expect(err).toMatchObject({ code: 'store_unavailable', status: 503, cause });
    expect((err as Error).message).toContain('cost query failed');
  });

  it('passes other errors through unchanged', () => {
    const other = withCode('42P01');
    expect(toStoreError(other, 'x')).toBe(other);
    const own = new PertokenError('invalid_request', 'bad');
    expect(toStoreError(own, 'x')).toBe(own);
  });
});
