/** Process exit codes keyferry promises to scripts (README "Exit codes"). */
export const ExitCode = {
	ok: 0,
	runtime: 1,
	usage: 2,
	discrepancies: 3,
	aborted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Every error keyferry raises on purpose: a stable code for scripts, a one-line message for the
 * operator, and the exit code it maps to. Anything else that escapes is a bug and exits 1.
 */
export class KeyferryError extends Error {
	override readonly name = 'KeyferryError';
	constructor(
		readonly code: string,
		message: string,
		readonly exitCode: ExitCode = ExitCode.runtime,
	) {
		super(message);
	}
}

/** Bad flags, bad URLs, bad input files: exit 2, nothing written anywhere. */
export class UsageError extends KeyferryError {
	constructor(message: string, code = 'usage') {
		super(code, message, ExitCode.usage);
	}
}

/** Turns anything thrown into a code and a single line fit for a terminal or a JSON event. */
export function describeError(error: unknown): {code: string; message: string; exitCode: ExitCode} {
	if (error instanceof KeyferryError) {
		return {code: error.code, message: oneLine(error.message), exitCode: error.exitCode};
	}
	const message = error instanceof Error ? error.message : String(error);
	return {code: 'internal', message: oneLine(message), exitCode: ExitCode.runtime};
}

/** Line breaks become spaces; other control characters are shown escaped, so none reaches the terminal raw. */
function oneLine(text: string): string {
	return text
		.replace(/\s*[\r\n]+\s*/g, ' ')
		.replace(/\t/g, ' ')
		.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`)
		.trim();
}
