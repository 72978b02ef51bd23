/** A chart page's time range: the last N seconds (which moves), or fixed ends. */
export type TimeRange = { last: number } | { start: number; end: number };

export const LAST_RANGES = [
  { seconds: 15 * 60, label: '15m' },
  { seconds: 3600, label: '1h' },
  { seconds: 6 * 3600, label: '6h' },
  { seconds: 24 * 3600, label: '1d' },
  { seconds: 3 * 86400, label: '3d' },
  { seconds: 7 * 86400, label: '7d' },
];

/** The steps an interval is rounded up to, in seconds. */
const STEPS = [10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];

/** The range's ends now, in milliseconds. */
export function ends(range: TimeRange): { start: number; end: number } {
  if ('last' in range) {
    const end = Date.now();
    return { start: end - range.last * 1000, end };
  }
  return range;
}

/** Seconds a point for the range: about 360 points a chart, never finer than 10 s. */
export function autoInterval(range: TimeRange): number {
  const { start, end } = ends(range);
  const wanted = (end - start) / 1000 / 360;
  return STEPS.find((s) => s >= wanted) ?? STEPS[STEPS.length - 1];
}
