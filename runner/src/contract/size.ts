/**
 * Sizes as people read them, the same in `course check`, the Check panel and every report.
 * Decimal units, as `docker image ls` shows them, so the learner sees one number everywhere.
 */
export function formatSize(bytes: number): string {
  const [value, unit] = bytes >= 1e9 ? [bytes / 1e9, 'GB'] : bytes >= 1e6 ? [bytes / 1e6, 'MB'] : bytes >= 1e3 ? [bytes / 1e3, 'kB'] : [bytes, 'B'];
  const digits = unit === 'B' || value >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)} ${unit}`;
}
