/** How the console draws: decided once from the environment and the flags, before Ink mounts. */
export interface ConsoleOptions {
	ascii: boolean;
	color: boolean;
}

/**
 * LC_ALL, then LC_CTYPE, then LANG decide the character set (the POSIX precedence); with none set
 * the locale is C, so the console draws ASCII. NO_COLOR (any non-empty value, no-color.org) or
 * --no-color turns colors off.
 */
export function detectGlyphs(env: NodeJS.ProcessEnv, flags: {ascii?: boolean; color?: boolean}): ConsoleOptions {
	const locale = env['LC_ALL'] || env['LC_CTYPE'] || env['LANG'] || '';
	const utf8 = /utf-?8/i.test(locale);
	const noColor = (env['NO_COLOR'] ?? '') !== '';
	return {
		ascii: flags.ascii === true || !utf8,
		color: flags.color !== false && !noColor,
	};
}
