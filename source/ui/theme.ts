/**
 * Glyphs plus colors. With colors off every tone resolves to undefined, so components pass
 * `color={theme.tone(...)}` unconditionally and NO_COLOR output carries no color escapes
 * (bold and dim stay: they are attributes, not colors).
 */
import {asciiGlyphs, unicodeGlyphs, type Glyphs} from './glyphs';
import type {ConsoleOptions} from './console-options';

export type Tone = 'brand' | 'accent' | 'ok' | 'warn' | 'bad' | 'muted' | 'border' | 'captured' | 'applied' | 'copied' | 'lag';

const palette: Record<Tone, string> = {
	brand: 'cyanBright',
	accent: 'cyan',
	ok: 'green',
	warn: 'yellow',
	bad: 'red',
	muted: 'gray',
	border: 'gray',
	captured: 'blue',
	applied: 'green',
	copied: 'cyan',
	lag: 'magenta',
};

export interface Theme {
	glyphs: Glyphs;
	ascii: boolean;
	color: boolean;
	tone(tone: Tone): string | undefined;
}

export function createTheme(options: ConsoleOptions): Theme {
	return {
		glyphs: options.ascii ? asciiGlyphs : unicodeGlyphs,
		ascii: options.ascii,
		color: options.color,
		tone: (tone) => (options.color ? palette[tone] : undefined),
	};
}
