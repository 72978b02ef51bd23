import { useState } from 'react';

import type { TimeRange } from './range';

/** The range, interval and refresh one chart page shares among its charts (and its bar). */
export function useChartPage(initial: TimeRange = { last: 3600 }, initialRefresh = 30) {
  const [range, setRange] = useState<TimeRange>(initial);
  const [interval, setInterval] = useState<number | null>(null);
  const [refresh, setRefresh] = useState(initialRefresh);
  return {
    chart: { range, interval, refresh },
    bar: { range, onRange: setRange, interval, onInterval: setInterval, refresh, onRefresh: setRefresh },
  };
}
