/** Splits a socket's chunks into lines, refusing a line longer than the limit (a peer that is not ours). */
export class LineReader {
	private pending = '';

	constructor(private readonly maxLineBytes: number) {}

	/** The complete lines in this chunk, or 'overflow' once a line grows past the limit. */
	push(chunk: string): string[] | 'overflow' {
		// Only the new chunk is split: a multi-megabyte snapshot arrives in many chunks.
		const parts = chunk.split('\n');
		const last = parts.pop() ?? '';
		const lines = parts.length === 0 ? [] : [this.pending + parts[0], ...parts.slice(1)];
		this.pending = parts.length === 0 ? this.pending + last : last;
		if (this.pending.length > this.maxLineBytes || lines.some((line) => line.length > this.maxLineBytes)) return 'overflow';
		return lines.filter((line) => line.trim() !== '');
	}
}
