/**
 * Keys, values and engine messages come from the migrated data; a key holding `\x1b[2J` must not
 * clear the operator's screen. Control characters become `\xHH` escapes (like redis-cli), newlines
 * included, so every item stays on its one line; invisible format characters are escaped, and in
 * ASCII mode every non-ASCII character is.
 */
export function printable(text: string, ascii: boolean): string {
	let out = '';
	for (const char of text) {
		const code = char.codePointAt(0) ?? 0;
		const control = code < 0x20 || (code >= 0x7f && code < 0xa0);
		// Format characters (bidi overrides, zero-width joiners) can make a key look like another.
		const invisible = /\p{Cf}/u.test(char);
		if (control) {
			out += `\\x${code.toString(16).padStart(2, '0')}`;
		} else if (invisible || (ascii && code >= 0x80)) {
			out += code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
		} else {
			out += char;
		}
	}
	return out;
}
