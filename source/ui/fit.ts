/** Cutting text to a width. Widths here are code points: the console's own strings are narrow. */

export function truncateEnd(text: string, width: number, ellipsis: string): string {
	const chars = [...text];
	if (chars.length <= width) return text;
	if (width <= ellipsis.length) return chars.slice(0, Math.max(0, width)).join('');
	return chars.slice(0, width - ellipsis.length).join('') + ellipsis;
}

export function truncateStart(text: string, width: number, ellipsis: string): string {
	const chars = [...text];
	if (chars.length <= width) return text;
	if (width <= ellipsis.length) return chars.slice(chars.length - Math.max(0, width)).join('');
	return ellipsis + chars.slice(chars.length - (width - ellipsis.length)).join('');
}

/** Keeps both ends: hosts differ at the start, ports and dbs at the end. */
export function truncateMiddle(text: string, width: number, ellipsis: string): string {
	const chars = [...text];
	if (chars.length <= width) return text;
	if (width <= ellipsis.length) return chars.slice(0, Math.max(0, width)).join('');
	const keep = width - ellipsis.length;
	const head = Math.ceil(keep / 2);
	return chars.slice(0, head).join('') + ellipsis + chars.slice(chars.length - (keep - head)).join('');
}

export function padEnd(text: string, width: number): string {
	const length = [...text].length;
	return length >= width ? text : text + ' '.repeat(width - length);
}

export function padStart(text: string, width: number): string {
	const length = [...text].length;
	return length >= width ? text : ' '.repeat(width - length) + text;
}
