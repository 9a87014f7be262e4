import { exportColumns, type ExportRow } from './contract.js';

/**
 * The grade export: RFC 4180 CSV (CRLF, fields quoted when they hold a comma, quote or line
 * break) with a UTF-8 byte order mark so spreadsheets read accented names right, and JSON
 * with the same keys.
 */
export function renderCsv(rows: readonly ExportRow[]): string {
  const lines = [exportColumns.join(','), ...rows.map((row) => exportColumns.map((column) => csvField(row[column])).join(','))];
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

export function renderExportJson(rows: readonly ExportRow[], generatedAt: Date = new Date()): string {
  return `${JSON.stringify({ schemaVersion: 1, generatedAt: generatedAt.toISOString(), columns: exportColumns, rows }, null, 2)}\n`;
}

function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  // A cell a spreadsheet would run as a formula (=, +, -, @) is kept as text (OWASP's advice
  // on CSV injection): a learner's name must never become a formula on the instructor's machine.
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}
