import { describe, expect, it } from 'vitest';
import { csvField, parseFormat, renderCsv, renderJson, renderTable } from './output.js';
import { thrownBy } from './testing/errors.js';

describe('parseFormat', () => {
  it('accepts the allowed formats, ignoring case and blanks; absent is the first', () => {
    expect(parseFormat('json')).toBe('json');
    expect(parseFormat(' CSV ')).toBe('csv');
    expect(parseFormat(undefined)).toBe('table');
    expect(parseFormat('jsonl', '--format', ['csv', 'jsonl'])).toBe('jsonl');
    expect(parseFormat(undefined, '--format', ['csv', 'jsonl'])).toBe('csv');
  });

  it('refuses anything else in one line naming the flag', () => {
    const err = thrownBy(() => parseFormat('xml'));
    expect(err.code).toBe('invalid_request');
    expect(err.param).toBe('--format');
    expect(err.toLine()).toBe('error: --format: must be table, json or csv, got "xml"');
    expect(thrownBy(() => parseFormat('csv', '--format', ['table', 'json'])).toLine()).toBe(
      'error: --format: must be table or json, got "csv"',
    );
    expect(thrownBy(() => parseFormat('', '--output-format')).toLine()).toBe(
      'error: --output-format: must be table, json or csv, got ""',
    );
  });
});

describe('renderJson', () => {
  it('indents by two and ends in one newline', () => {
    expect(renderJson({ a: [1, 'x'], b: null, c: undefined })).toBe(
      '{\n  "a": [\n    1,\n    "x"\n  ],\n  "b": null\n}\n',
    );
  });
});

describe('renderTable', () => {
  it('right-aligns a column only when every non-empty cell is numeric', () => {
    const text = renderTable(
      ['name', 'count', 'usd', 'ok', 'note', 'mixed', 'blank'],
      [
        ['alpha', 1, '3.500000008', true, null, '12', null],
        ['b', 1024, '-0.5', false, 'x', 'n/a', ''],
        ['gamma', null, '1,024', true, null, '7', null],
      ],
    );
    expect(text.split('\n')).toEqual([
      'name   count          usd  ok     note  mixed  blank',
      '-----  -----  -----------  -----  ----  -----  -----',
      'alpha      1  3.500000008  true   -     12     -',
      'b       1024         -0.5  false  x     n/a',
      'gamma      -        1,024  true   -     7      -',
      '',
    ]);
  });

  it('never ends a line in blanks, and an empty table is its header', () => {
    const text = renderTable(['id', 'value'], [['a', null]]);
    for (const line of text.split('\n')) expect(line).toBe(line.trimEnd());
    expect(renderTable(['id', 'n'], [])).toBe('id  n\n--  -\n');
  });

  it('can drop the rule and print notes under their row', () => {
    expect(
      renderTable(
        ['model', 'input'],
        [
          ['a', '0.05'],
          ['bb', '10'],
        ],
        { rule: false, notes: [['tiered above 200k'], undefined] },
      ),
    ).toBe('model  input\na       0.05\n    - tiered above 200k\nbb        10\n');
  });
});

describe('renderCsv', () => {
  it('quotes per RFC 4180 and leaves null fields empty', () => {
    expect(
      renderCsv(
        ['id', 'note', 'n', 'ok'],
        [
          ['a', 'plain', 1.5, true],
          ['b', 'a,b', null, false],
          ['c', 'say "hi"', 0, null],
          ['d', 'two\nlines', -1, true],
          ['e', 'carriage\rreturn', null, null],
        ],
      ),
    ).toBe(
      'id,note,n,ok\na,plain,1.5,true\nb,"a,b",,false\nc,"say ""hi""",0,\nd,"two\nlines",-1,true\ne,"carriage\rreturn",,\n',
    );
  });

  it('csvField quotes only what needs quoting', () => {
    expect([csvField('plain'), csvField(''), csvField(null), csvField('"')]).toEqual(['plain', '', '', '""""']);
  });
});
