import { describe, expect, it } from 'vitest';
import type { ExportRow } from '../../../runner/src/class/contract.js';
import { renderCsv, renderExportJson } from '../../../runner/src/class/export.js';
import { formatJoinLink, parseJoinLink } from '../../../runner/src/class/join-link.js';
import { learnerNameSchema } from '../../../runner/src/class/submission.js';

const row = (learner: string, overrides: Partial<ExportRow> = {}): ExportRow => ({
  learner,
  exercise: 'lesson-1',
  passed: true,
  attempts: 2,
  first_attempt: '2026-11-30T09:00:00.000Z',
  passed_at: '2026-11-30T09:30:00.000Z',
  best_size_bytes: 78_123_456,
  best_layers: 2,
  ...overrides,
});

describe('the CSV export', () => {
  it('writes a header, CRLF lines and a UTF-8 byte order mark', () => {
    const csv = renderCsv([row('Zoë Ångström'), row('Bob', { passed: false, attempts: 0, first_attempt: null, passed_at: null, best_size_bytes: null, best_layers: null })]);
    expect(csv).toBe(
      '\uFEFFlearner,exercise,passed,attempts,first_attempt,passed_at,best_size_bytes,best_layers\r\n' +
        'Zoë Ångström,lesson-1,true,2,2026-11-30T09:00:00.000Z,2026-11-30T09:30:00.000Z,78123456,2\r\n' +
        'Bob,lesson-1,false,0,,,,\r\n',
    );
  });

  it('quotes names with commas, quotes, line breaks or edge spaces, doubling inner quotes', () => {
    const lines = renderCsv([row('Lovelace, Ada'), row('Ada "the Countess"'), row('two\nlines'), row(' padded')]).split('\r\n');
    expect(lines.slice(1, 5).map((line) => line.split(',lesson-1,')[0])).toEqual(['"Lovelace, Ada"', '"Ada ""the Countess"""', '"two\nlines"', '" padded"']);
  });

  it('keeps a name that a spreadsheet would run as a formula as text', () => {
    const csv = renderCsv([row('=HYPERLINK("http://x","y")'), row('@SUM(1)'), row('+1'), row('-2')]);
    const names = csv.split('\r\n').slice(1, 5).map((line) => line.slice(0, line.indexOf(',lesson-1')));
    expect(names).toEqual(['"\'=HYPERLINK(""http://x"",""y"")"', "'@SUM(1)", "'+1", "'-2"]);
  });

  it('writes JSON rows with the same keys as the CSV columns', () => {
    const parsed = JSON.parse(renderExportJson([row('Lovelace, Ada')]));
    expect(parsed.columns).toEqual(Object.keys(parsed.rows[0]));
    expect(parsed.rows[0].learner).toBe('Lovelace, Ada');
  });
});

describe('join links', () => {
  it('round-trips an https link with its fingerprint', () => {
    const fingerprint = Array.from({ length: 32 }, (_, index) => index.toString(16).padStart(2, '0').toUpperCase()).join(':');
    const text = formatJoinLink('https://192.168.1.20:4848', 'abcdefgh12345678', fingerprint);
    expect(parseJoinLink(text)).toEqual({ origin: 'https://192.168.1.20:4848', isHttps: true, code: 'abcdefgh12345678', fingerprint });
  });

  it.each([
    ['not a link', /not an address/],
    ['ftp://host/class/join?code=abcdefgh12', /starts with ftp:/],
    ['http://host:1/lessons/?code=abcdefgh12', /its path/],
    ['http://host:1/class/join', /no join code/],
    ['https://host:1/class/join?code=abcdefgh12', /fingerprint/],
    ['https://host:1/class/join?code=abcdefgh12&fp=12:34', /not a SHA-256 fingerprint/],
  ])('refuses %s with the reason', (text, reason) => {
    expect(() => parseJoinLink(text)).toThrow(reason);
  });
});

describe('learner names', () => {
  it('trims and normalises, and refuses control and invisible characters', () => {
    expect(learnerNameSchema.parse('  Zoe\u0308  ')).toBe('Zoë');
    for (const bad of ['', 'a\u0000b', 'Eve\u202Eevil', 'x'.repeat(61), 'tab\there']) expect(learnerNameSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});
