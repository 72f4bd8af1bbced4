/**
 * CSV as RFC 4180 has it: fields separated by commas, records by CRLF (a bare LF is accepted when reading), a
 * field quoted when it holds a comma, a quote, a line break or surrounding spaces, quotes doubled inside.
 */

export type CsvValue = string | number | boolean | null;

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** One field: null is an empty field; numbers as JavaScript prints them. */
export function csvField(value: CsvValue): string {
  if (value === null) return '';
  const text = String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line and one line per row, each ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

export interface CsvRecord {
  /** 1-based line of the file on which the record starts (a quoted field may span lines). */
  line: number;
  fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

/**
 * The records of a CSV text with the line each starts on; blank lines are skipped. Throws CsvSyntaxError for
 * what cannot be read on: a quote left open at the end, or text after a closing quote.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let line = 1;
  let index = 0;
  while (index < input.length) {
    const startLine = line;
    const fields: string[] = [];
    let ended = false;
    while (!ended) {
      let field = '';
      if (input[index] === '"') {
        index++;
        for (;;) {
          if (index >= input.length) throw new CsvSyntaxError(startLine, 'a quoted field is never closed');
          const char = input[index]!;
          if (char === '"' && input[index + 1] === '"') {
            field += '"';
            index += 2;
          } else if (char === '"') {
            index++;
            break;
          } else {
            if (char === '\n') line++;
            field += char;
            index++;
          }
        }
        const next = input[index];
        if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n')
          throw new CsvSyntaxError(line, 'text after a closing quote (quote the whole field)');
      } else {
        while (index < input.length && !',\r\n'.includes(input[index]!)) field += input[index++];
      }
      fields.push(field);
      const separator = input[index];
      if (separator === ',') index++;
      else {
        if (separator === '\r') index++;
        if (input[index] === '\n') index++;
        if (separator !== undefined) line++;
        ended = true;
      }
    }
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: startLine, fields });
  }
  return records;
}
