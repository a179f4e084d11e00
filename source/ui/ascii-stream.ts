/**
 * In ASCII mode every glyph the console draws is ASCII and data is escaped (printable.ts), but Ink
 * itself marks truncated text with "…". A terminal without a UTF-8 locale would show that as
 * mojibake, so in ASCII mode Ink writes through this guard: "…" becomes "~" (same width) and any
 * other stray non-ASCII character "?".
 */
export function toAscii(text: string): string {
	return text.replace(/[^\x00-\x7f]/gu, (char) => (char === '…' ? '~' : '?'));
}

/** The same stream (size, events, TTY-ness), with every string written passed through toAscii. */
export function asciiStream(stream: NodeJS.WriteStream): NodeJS.WriteStream {
	return new Proxy(stream, {
		get(target, property) {
			if (property === 'write') {
				return (chunk: unknown, ...rest: unknown[]) =>
					(target.write as (...args: unknown[]) => boolean)(typeof chunk === 'string' ? toAscii(chunk) : chunk, ...rest);
			}
			const value: unknown = Reflect.get(target, property, target);
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
}
