/**
 * A streaming RFC 4180 reader: records come out as chunks arrive, quotes may span chunks and
 * lines, so a month-long FOCUS export never sits in memory as one string. An empty unquoted
 * field is null (FOCUS NULL, trap T9); a quoted "" is the empty string.
 */
import { invalidInput } from '../../errors.js';

export interface CsvRecord {
  /** 1-based physical line on which the record starts. */
  line: number;
  fields: (string | null)[];
}

export async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<CsvRecord> {
  let fields: (string | null)[] = [];
  let field = '';
  let quoted = false;
  let inQuotes = false;
  let afterQuote = false;
  let line = 1;
  let start = 1;
  let pendingCr = false;
  const endField = (): void => {
    fields.push(field === '' && !quoted ? null : field);
    field = '';
    quoted = false;
    afterQuote = false;
  };
  const endRecord = (): CsvRecord | null => {
    endField();
    const record = fields.length === 1 && fields[0] === null ? null : { line: start, fields };
    fields = [];
    return record;
  };
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (c === '\n') continue;
      }
      if (inQuotes) {
        if (c === '"') {
          inQuotes = false;
          afterQuote = true;
        } else {
          if (c === '\n') line++;
          field += c;
        }
        continue;
      }
      if (c === '"') {
        // A doubled quote inside a quoted field: the closing quote was a false alarm.
        if (afterQuote) {
          field += '"';
          inQuotes = true;
          afterQuote = false;
        } else if (field === '' && !quoted) {
          quoted = true;
          inQuotes = true;
        } else throw invalidInput(`line ${line}`, 'a quote inside an unquoted field (RFC 4180)');
      } else if (c === ',') endField();
      else if (c === '\n' || c === '\r') {
        pendingCr = c === '\r';
        const record = endRecord();
        line++;
        start = line;
        if (record) yield record;
      } else if (afterQuote) throw invalidInput(`line ${line}`, 'text after a closing quote (RFC 4180)');
      else field += c;
    }
  }
  if (inQuotes) throw invalidInput(`line ${start}`, 'unterminated quoted field');
  const last = endRecord();
  if (last) yield last;
}
