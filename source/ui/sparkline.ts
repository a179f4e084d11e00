/**
 * Per-second series drawn as block sparklines. Pure: values in, rows of text out, so the panes stay
 * thin and the drawing has table tests.
 */

export interface SparkGlyphs {
	spark: readonly string[];
	sparkZero: string;
}

export interface SparkOptions {
	width: number;
	/** Rows of text; taller sparklines resolve finer. */
	height?: number;
	/** Seconds per cell: each cell is the mean of that many newest-aligned samples. */
	bucket?: number;
	/** Top of the scale; the series' own maximum when absent (pass one to share a scale). */
	max?: number;
}

/** Cell means, newest last, left-padded with null where the history does not reach back yet. */
export function bucketize(values: readonly number[], width: number, bucket: number): Array<number | null> {
	const cells: Array<number | null> = [];
	for (let cell = 0; cell < width; cell++) {
		const end = values.length - (width - 1 - cell) * bucket;
		const start = Math.max(0, end - bucket);
		if (end <= 0) {
			cells.push(null);
			continue;
		}
		let sum = 0;
		for (let i = start; i < end; i++) sum += values[i] ?? 0;
		cells.push(sum / (end - start));
	}
	return cells;
}

/** Rows top to bottom, each exactly `width` cells wide. */
export function sparkline(values: readonly number[], glyphs: SparkGlyphs, options: SparkOptions): string[] {
	const width = Math.max(0, Math.floor(options.width));
	const height = Math.max(1, options.height ?? 1);
	const cells = bucketize(values, width, Math.max(1, options.bucket ?? 1));
	const max = options.max ?? Math.max(0, ...cells.map((cell) => cell ?? 0));
	const levels = glyphs.spark.length;
	const steps = height * levels;
	const rows: string[] = Array.from({length: height}, () => '');
	for (const cell of cells) {
		// Any activity at all gets at least the second level, so it never reads as idle.
		const filled = cell === null || cell <= 0 || max <= 0 ? 0 : Math.min(steps, Math.max(2, Math.ceil((cell / max) * steps)));
		for (let row = 0; row < height; row++) {
			const fromBottom = height - 1 - row;
			const inCell = Math.min(levels, Math.max(0, filled - fromBottom * levels));
			let char = ' ';
			if (inCell > 0) char = glyphs.spark[inCell - 1] ?? ' ';
			else if (cell !== null && fromBottom === 0) char = glyphs.sparkZero;
			rows[row] += char;
		}
	}
	return rows;
}

/** Seconds per cell so a sparkline `width` cells wide spans about two minutes. */
export function bucketFor(width: number, windowSeconds = 120): number {
	const candidates = [1, 2, 3, 5, 10, 15, 30, 60];
	return candidates.find((bucket) => bucket * Math.max(1, width) >= windowSeconds) ?? 60;
}
