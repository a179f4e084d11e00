/**
 * Operator input quoted back in an error message: any URL credentials masked (a password typed
 * where a flag or argument was expected must not reach the screen), control characters escaped
 * (they would break the one-line message or drive the terminal), and long text cut short.
 */
const maxShown = 120;

export function inputText(raw: string): string {
	const safe = redactUrlText(raw).replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
	return safe.length > maxShown ? `${safe.slice(0, maxShown)}… (${safe.length} characters)` : safe;
}

/**
 * The URL text with everything between the user name's `:` and the last `@` masked, for messages.
 * The last `@`, because a password may hold unescaped `@`, `/`, `?` or `#` that a URL parser would
 * split elsewhere, and whatever part of it shows is a leak.
 */
export function redactUrlText(text: string): string {
	const at = text.lastIndexOf('@');
	if (at === -1) return text;
	const authority = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0].length ?? 0;
	const colon = text.indexOf(':', authority);
	if (colon === -1 || colon > at) return text;
	return `${text.slice(0, colon)}:***${text.slice(at)}`;
}
