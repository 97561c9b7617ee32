/**
 * CSV for spreadsheets (RFC 4180): a preview's or a run's changes, opened in Excel or
 * LibreOffice by an admin. Pure: no I/O.
 */

/** A CSV cell: text, a number, or nothing (an empty cell). */
export type CsvCell = string | number | boolean | null | undefined;

/**
 * Characters a spreadsheet reads as the start of a formula (=, +, -, @) or that some strip
 * before doing so (tab, carriage return). A cell starting with one is prefixed with ' so a
 * name or alias from Entra like `=HYPERLINK(…)` stays text (OWASP "CSV injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell as CSV text: formula-looking text defused, quoted when it holds a comma, quote or line break. */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows (the first usually the header) as CSV text: CRLF line ends, a final CRLF. */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return rows.map((row) => `${row.map(csvCell).join(',')}\r\n`).join('');
}
