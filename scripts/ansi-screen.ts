/**
 * Parses a terminal screen as `tmux capture-pane -e -p` prints it (text with SGR escapes, one line
 * per row, styles carried from row to row) into a grid of styled cells. Only what Ink draws needs
 * to survive: 16/256/true colors, bold, dim, italic, underline, inverse; other escapes are dropped.
 */

/** A palette index 0–255, a '#rrggbb' true color, or null for the terminal default. */
export type Color = number | string | null;

export interface Style {
	fg: Color;
	bg: Color;
	bold: boolean;
	dim: boolean;
	italic: boolean;
	underline: boolean;
	inverse: boolean;
}

export interface Cell {
	char: string;
	style: Style;
	/** 2 for East Asian wide characters and emoji; the cell after a wide one is skipped. */
	width: 1 | 2;
}

export type Screen = Cell[][];

export const defaultStyle: Style = {fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false};

const sgrPattern = /\u001B\[([0-9;:]*)m/y;
const otherEscape = /\u001B(?:\[[0-9;:?<>=!]*[ -/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[()][A-Z0-9]|[=>78cDEHM])/y;

export function parseScreen(text: string, columns: number, rows: number): Screen {
	const lines = text.replace(/\r/g, '').split('\n');
	const screen: Screen = [];
	let style = defaultStyle;
	for (let row = 0; row < rows; row++) {
		const cells: Cell[] = [];
		const line = lines[row] ?? '';
		let index = 0;
		while (index < line.length && cells.length < columns) {
			sgrPattern.lastIndex = index;
			const sgr = sgrPattern.exec(line);
			if (sgr) {
				style = applySgr(style, sgr[1] ?? '');
				index = sgrPattern.lastIndex;
				continue;
			}
			otherEscape.lastIndex = index;
			if (line[index] === '\u001B' && otherEscape.exec(line)) {
				index = otherEscape.lastIndex;
				continue;
			}
			const codePoint = line.codePointAt(index)!;
			const char = String.fromCodePoint(codePoint);
			index += char.length;
			if (codePoint < 0x20) continue;
			const width = isWide(codePoint) ? 2 : 1;
			cells.push({char, style, width});
			if (width === 2 && cells.length < columns) cells.push({char: '', style, width: 1});
		}
		while (cells.length < columns) cells.push({char: ' ', style: defaultStyle, width: 1});
		screen.push(cells);
	}
	return screen;
}

/** One SGR parameter list applied to a style. */
export function applySgr(current: Style, parameters: string): Style {
	const codes = parameters === '' ? [0] : parameters.split(/[;:]/).map((part) => (part === '' ? 0 : Number(part)));
	let style = {...current};
	for (let i = 0; i < codes.length; i++) {
		const code = codes[i]!;
		if (code === 0) style = {...defaultStyle};
		else if (code === 1) style.bold = true;
		else if (code === 2) style.dim = true;
		else if (code === 3) style.italic = true;
		else if (code === 4) style.underline = true;
		else if (code === 7) style.inverse = true;
		else if (code === 22) style = {...style, bold: false, dim: false};
		else if (code === 23) style.italic = false;
		else if (code === 24) style.underline = false;
		else if (code === 27) style.inverse = false;
		else if (code >= 30 && code <= 37) style.fg = code - 30;
		else if (code >= 90 && code <= 97) style.fg = code - 90 + 8;
		else if (code >= 40 && code <= 47) style.bg = code - 40;
		else if (code >= 100 && code <= 107) style.bg = code - 100 + 8;
		else if (code === 39) style.fg = null;
		else if (code === 49) style.bg = null;
		else if (code === 38 || code === 48) {
			const mode = codes[i + 1];
			let color: Color = null;
			if (mode === 5) {
				color = codes[i + 2] ?? 0;
				i += 2;
			} else if (mode === 2) {
				color = `#${[codes[i + 2], codes[i + 3], codes[i + 4]].map((value) => (value ?? 0).toString(16).padStart(2, '0')).join('')}`;
				i += 4;
			}
			if (code === 38) style.fg = color;
			else style.bg = color;
		}
	}
	return style;
}

/** Double-width code points (CJK, Hangul, fullwidth forms, most emoji), as terminals lay them out. */
export function isWide(codePoint: number): boolean {
	return (
		(codePoint >= 0x1100 && codePoint <= 0x115f) ||
		(codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
		(codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
		(codePoint >= 0xf900 && codePoint <= 0xfaff) ||
		(codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
		(codePoint >= 0xff00 && codePoint <= 0xff60) ||
		(codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
		(codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
		(codePoint >= 0x20000 && codePoint <= 0x3fffd)
	);
}

/** The screen's text without styles, rows joined with newlines (for waiting on what it shows). */
export function screenText(screen: Screen): string {
	return screen.map((row) => row.map((cell) => cell.char).join('').trimEnd()).join('\n');
}
