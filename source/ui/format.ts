/**
 * Numbers, sizes and durations as the console prints them. Pure and locale-independent, so a
 * bastion with an odd locale prints the same thing as the demo laptop.
 */

export function formatCount(value: number): string {
	const rounded = Math.round(value);
	const sign = rounded < 0 ? '-' : '';
	return sign + String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const compactUnits = ['', 'k', 'M', 'G', 'T'];

/** 999, 1.2k, 12.3k, 123k, 1.23M: at most four significant characters before the unit. */
export function formatCompact(value: number): string {
	let scaled = Math.abs(value);
	let unit = 0;
	while (scaled >= 999.5 && unit < compactUnits.length - 1) {
		scaled /= 1000;
		unit++;
	}
	const sign = value < 0 ? '-' : '';
	if (unit === 0) return sign + String(Math.round(scaled));
	const digits = scaled < 9.995 ? 2 : scaled < 99.95 ? 1 : 0;
	return sign + scaled.toFixed(digits) + compactUnits[unit];
}

export function formatRate(perSecond: number): string {
	return `${formatCompact(perSecond)}/s`;
}

const byteUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
	let scaled = Math.max(0, bytes);
	let unit = 0;
	while (scaled >= 1023.95 && unit < byteUnits.length - 1) {
		scaled /= 1024;
		unit++;
	}
	if (unit === 0) return `${Math.round(scaled)} B`;
	return `${scaled.toFixed(scaled < 99.95 ? 1 : 0)} ${byteUnits[unit]}`;
}

/** Two units at most: 45s, 1m02s, 1h02m, 2d03h. */
export function formatDuration(seconds: number): string {
	const total = Math.max(0, Math.round(seconds));
	const days = Math.floor(total / 86_400);
	const hours = Math.floor((total % 86_400) / 3600);
	const minutes = Math.floor((total % 3600) / 60);
	const secs = total % 60;
	const two = (n: number) => String(n).padStart(2, '0');
	if (days > 0) return `${days}d${two(hours)}h`;
	if (hours > 0) return `${hours}h${two(minutes)}m`;
	if (minutes > 0) return `${minutes}m${two(secs)}s`;
	return `${secs}s`;
}

/** A stopwatch: 00:12:34, and 1d 02:03:04 past a day. */
export function formatElapsed(ms: number): string {
	const total = Math.max(0, Math.floor(ms / 1000));
	const days = Math.floor(total / 86_400);
	const two = (n: number) => String(n).padStart(2, '0');
	const clock = `${two(Math.floor((total % 86_400) / 3600))}:${two(Math.floor((total % 3600) / 60))}:${two(total % 60)}`;
	return days > 0 ? `${days}d ${clock}` : clock;
}

/** Local wall-clock time of an event, HH:MM:SS. */
export function formatTimeOfDay(ts: number): string {
	const date = new Date(ts);
	const two = (n: number) => String(n).padStart(2, '0');
	return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** One decimal; 100.0% only once everything is done, so a finished-looking bar is never a lie. */
export function formatPercent(done: number, total: number): string {
	if (total <= 0) return done > 0 ? '100.0%' : '0.0%';
	const ratio = Math.min(1, Math.max(0, done / total));
	const percent = Math.floor(ratio * 1000) / 10;
	return `${percent.toFixed(1)}%`;
}

/** Seconds until `remaining` at `perSecond`, or null when there is no rate to go by. */
export function etaSeconds(remaining: number, perSecond: number): number | null {
	if (remaining <= 0) return 0;
	if (perSecond <= 0) return null;
	return remaining / perSecond;
}

export function formatLatency(ms: number | null, none: string): string {
	if (ms === null) return none;
	if (ms < 10) return `${ms.toFixed(1)} ms`;
	if (ms < 1000) return `${Math.round(ms)} ms`;
	return `${(ms / 1000).toFixed(1)} s`;
}

/** Lag in seconds: tenths below a minute, then a duration. */
export function formatLagSeconds(seconds: number): string {
	if (seconds < 60) return `${seconds.toFixed(1)} s`;
	return formatDuration(seconds);
}
