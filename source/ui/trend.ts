/** Whether the replay queue is growing or draining: the newest few seconds against the few before. */
export type Trend = 'rising' | 'falling' | 'steady';

export function trendOf(series: readonly number[], span = 5): Trend {
	if (series.length < 2) return 'steady';
	const recent = series.slice(-span);
	const earlier = series.slice(-2 * span, -span);
	if (earlier.length === 0) return 'steady';
	const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
	const before = mean(earlier);
	const diff = mean(recent) - before;
	// A queue wobbling by a few events is steady; tens of events or a tenth of the depth is a trend.
	const threshold = Math.max(10, before * 0.1);
	if (diff > threshold) return 'rising';
	if (diff < -threshold) return 'falling';
	return 'steady';
}
