/**
 * Draws terminal screens (ansi-screen.ts) as SVG: a still, or an animation of several screens
 * played in sequence with CSS. Every run of text is stretched to its exact cell width
 * (textLength), so the grid stays aligned whatever monospace font the viewer has; block elements
 * (progress bars, sparklines) and box drawing (panel borders) are drawn as shapes, so they join
 * up from cell to cell and row to row as in a terminal.
 *
 * The animation stores each distinct row once and places it per frame with <use>: most rows of a
 * console repeat from frame to frame, which keeps a minute of recording small.
 */
import type {Cell, Color, Screen, Style} from './ansi-screen';

export interface SvgOptions {
	title: string;
}

const fontSize = 14;
const cellWidth = 8.4;
const lineHeight = 18;
const baseline = 13.5;
const padding = 14;
const titleBar = 30;

const foreground = '#d5d9e0';
const background = '#1d2027';
/** Tango-like 16 colors, tuned for a dark background. */
const basePalette = [
	'#3b4048', '#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#d5d9e0',
	'#7f848e', '#ff7b86', '#b5e890', '#ffd68a', '#7cc4ff', '#dd9bf0', '#7fdbe6', '#ffffff',
];

export function paletteColor(index: number): string {
	if (index < 16) return basePalette[index]!;
	if (index >= 232) {
		const level = (8 + (index - 232) * 10).toString(16).padStart(2, '0');
		return `#${level}${level}${level}`;
	}
	const cube = index - 16;
	const channel = (value: number) => (value === 0 ? 0 : 55 + value * 40).toString(16).padStart(2, '0');
	return `#${channel(Math.floor(cube / 36))}${channel(Math.floor(cube / 6) % 6)}${channel(cube % 6)}`;
}

function resolve(color: Color, fallback: string): string {
	if (color === null) return fallback;
	return typeof color === 'number' ? paletteColor(color) : color;
}

/** Colors after inverse, as fills. */
function colors(style: Style): {fg: string; bg: string | null} {
	const fg = resolve(style.fg, foreground);
	const bg = style.bg === null ? null : resolve(style.bg, background);
	return style.inverse ? {fg: bg ?? background, bg: fg} : {fg, bg};
}

/** Lower eighth blocks ▁…█ (height in eighths), shades ░▒▓ (opacity), half blocks. */
function blockShape(char: string): {x: number; y: number; width: number; height: number; opacity: number} | null {
	const code = char.codePointAt(0) ?? 0;
	if (code >= 0x2581 && code <= 0x2588) {
		const eighths = code - 0x2580;
		return {x: 0, y: 1 - eighths / 8, width: 1, height: eighths / 8, opacity: 1};
	}
	if (code === 0x2591) return {x: 0, y: 0, width: 1, height: 1, opacity: 0.25};
	if (code === 0x2592) return {x: 0, y: 0, width: 1, height: 1, opacity: 0.5};
	if (code === 0x2593) return {x: 0, y: 0, width: 1, height: 1, opacity: 0.75};
	if (code === 0x2580) return {x: 0, y: 0, width: 1, height: 0.5, opacity: 1};
	if (code === 0x258c) return {x: 0, y: 0, width: 0.5, height: 1, opacity: 1};
	if (code === 0x2590) return {x: 0.5, y: 0, width: 0.5, height: 1, opacity: 1};
	return null;
}

/** Box-drawing arms (left, right, up, down) and whether the corner is rounded, as Ink's borders use them. */
const boxArms: Record<string, {left?: true; right?: true; up?: true; down?: true; round?: true}> = {
	'─': {left: true, right: true},
	'│': {up: true, down: true},
	'┌': {right: true, down: true},
	'┐': {left: true, down: true},
	'└': {right: true, up: true},
	'┘': {left: true, up: true},
	'├': {up: true, down: true, right: true},
	'┤': {up: true, down: true, left: true},
	'┬': {left: true, right: true, down: true},
	'┴': {left: true, right: true, up: true},
	'┼': {left: true, right: true, up: true, down: true},
	'╭': {right: true, down: true, round: true},
	'╮': {left: true, down: true, round: true},
	'╰': {right: true, up: true, round: true},
	'╯': {left: true, up: true, round: true},
};

/** Path data for one box-drawing cell whose left edge is at x; lines meet at the cell's centre. */
function boxPath(char: string, x: number): string {
	const arms = boxArms[char]!;
	const cx = x + cellWidth / 2;
	const cy = lineHeight / 2;
	const right = x + cellWidth;
	if (arms.round) {
		const r = cellWidth / 2;
		const h = arms.left ? x : right;
		const hx = arms.left ? cx - r : cx + r;
		const v = arms.up ? 0 : lineHeight;
		const vy = arms.up ? cy - r : cy + r;
		return `M${fixed(h)} ${fixed(cy)}H${fixed(hx)}Q${fixed(cx)} ${fixed(cy)} ${fixed(cx)} ${fixed(vy)}V${fixed(v)}`;
	}
	const parts: string[] = [];
	if (arms.left || arms.right) parts.push(`M${fixed(arms.left ? x : cx)} ${fixed(cy)}H${fixed(arms.right ? right : cx)}`);
	if (arms.up || arms.down) parts.push(`M${fixed(cx)} ${fixed(arms.up ? 0 : cy)}V${fixed(arms.down ? lineHeight : cy)}`);
	return parts.join('');
}

const isGraphic = (char: string) => blockShape(char) !== null || char in boxArms;

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fixed = (value: number) => String(Math.round(value * 100) / 100);

/** Text attributes as a CSS class list; colors as fill. */
function textAttributes(style: Style, fill: string): string {
	const classes = [style.bold ? 'b' : '', style.dim ? 'd' : '', style.italic ? 'i' : '', style.underline ? 'u' : ''].filter(Boolean).join(' ');
	return `${fill === foreground ? '' : ` fill="${fill}"`}${classes ? ` class="${classes}"` : ''}`;
}

/** The SVG elements of one row, drawn at y = 0. */
export function renderRow(cells: readonly Cell[]): string {
	const parts: string[] = [];
	// Backgrounds first, merged across cells of the same color.
	for (let column = 0; column < cells.length; ) {
		const bg = colors(cells[column]!.style).bg;
		let end = column + 1;
		while (end < cells.length && colors(cells[end]!.style).bg === bg) end++;
		if (bg !== null) parts.push(`<rect x="${fixed(column * cellWidth)}" width="${fixed((end - column) * cellWidth)}" height="${lineHeight}" fill="${bg}"/>`);
		column = end;
	}
	let column = 0;
	while (column < cells.length) {
		const cell = cells[column]!;
		const block = blockShape(cell.char);
		if (block) {
			// A run of the same block is one rectangle: no seams between cells.
			let end = column + 1;
			if (block.width === 1) while (end < cells.length && cells[end]!.char === cell.char && sameStyle(cells[end]!.style, cell.style)) end++;
			const {fg} = colors(cell.style);
			const opacity = block.opacity < 1 ? ` fill-opacity="${block.opacity}"` : '';
			parts.push(
				`<rect x="${fixed((column + block.x) * cellWidth)}" y="${fixed(block.y * lineHeight)}" width="${fixed((end - column - 1 + block.width) * cellWidth)}" height="${fixed(block.height * lineHeight)}" fill="${fg}"${opacity}${cell.style.dim ? ' class="d"' : ''}/>`,
			);
			column = end;
			continue;
		}
		if (cell.char in boxArms) {
			// One path per run of same-styled box drawing; a run of ─ is a single segment.
			let end = column;
			let d = '';
			while (end < cells.length && cells[end]!.char in boxArms && sameStyle(cells[end]!.style, cell.style)) {
				if (cells[end]!.char === '─') {
					const start = end;
					while (end < cells.length && cells[end]!.char === '─' && sameStyle(cells[end]!.style, cell.style)) end++;
					d += `M${fixed(start * cellWidth)} ${fixed(lineHeight / 2)}H${fixed(end * cellWidth)}`;
				} else {
					d += boxPath(cells[end]!.char, end * cellWidth);
					end++;
				}
			}
			parts.push(`<path d="${d}" stroke="${colors(cell.style).fg}"${cell.style.dim ? ' class="d"' : ''}/>`);
			column = end;
			continue;
		}
		if (cell.char === ' ' || cell.char === '') {
			column++;
			continue;
		}
		// A text run: same style, no block or box drawing, trailing spaces dropped.
		let end = column;
		let text = '';
		while (end < cells.length && sameStyle(cells[end]!.style, cell.style) && !isGraphic(cells[end]!.char)) {
			text += cells[end]!.char;
			end++;
		}
		const trimmed = text.trimEnd();
		let width = 0;
		let consumed = 0;
		for (let i = column; i < end && consumed < trimmed.length; i++) {
			width += cells[i]!.char === '' ? 0 : cells[i]!.width;
			consumed += cells[i]!.char.length;
		}
		const {fg} = colors(cell.style);
		parts.push(
			`<text x="${fixed(column * cellWidth)}" y="${baseline}" textLength="${fixed(width * cellWidth)}"${textAttributes(cell.style, fg)}>${escapeXml(trimmed)}</text>`,
		);
		column = end;
	}
	return parts.join('');
}

function sameStyle(a: Style, b: Style): boolean {
	return a.fg === b.fg && a.bg === b.bg && a.bold === b.bold && a.dim === b.dim && a.italic === b.italic && a.underline === b.underline && a.inverse === b.inverse;
}

function frameSize(screen: Screen): {width: number; height: number; screenWidth: number; screenHeight: number} {
	const screenWidth = (screen[0]?.length ?? 0) * cellWidth;
	const screenHeight = screen.length * lineHeight;
	return {screenWidth, screenHeight, width: screenWidth + padding * 2, height: screenHeight + padding * 2 + titleBar};
}

function header(width: number, height: number, title: string, extraStyle = ''): string {
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${fixed(width)}" height="${fixed(height)}" viewBox="0 0 ${fixed(width)} ${fixed(height)}" font-family="ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace" font-size="${fontSize}" xml:space="preserve">`,
		`<title>${escapeXml(title)}</title>`,
		`<style>text{white-space:pre;fill:${foreground}}path{fill:none;stroke-width:1.2}.b{font-weight:700}.d{opacity:.6}.i{font-style:italic}.u{text-decoration:underline}${extraStyle}</style>`,
		`<rect width="${fixed(width)}" height="${fixed(height)}" rx="8" fill="${background}"/>`,
		`<circle cx="20" cy="16" r="6" fill="#ff5f57"/><circle cx="40" cy="16" r="6" fill="#febc2e"/><circle cx="60" cy="16" r="6" fill="#28c840"/>`,
		`<text x="${fixed(width / 2)}" y="21" text-anchor="middle" fill="#8a909c" font-size="12">${escapeXml(title)}</text>`,
	].join('\n');
}

/** One screen as a standalone SVG. */
export function renderStill(screen: Screen, options: SvgOptions): string {
	const {width, height} = frameSize(screen);
	const rows = screen.map((cells, row) => {
		const content = renderRow(cells);
		return content ? `<g transform="translate(0 ${row * lineHeight})">${content}</g>` : '';
	});
	return `${header(width, height, options.title)}\n<g transform="translate(${padding} ${padding + titleBar})">\n${rows.filter(Boolean).join('\n')}\n</g>\n</svg>\n`;
}

export interface Frame {
	screen: Screen;
	/** How long the frame stays on screen. */
	durationMs: number;
}

/**
 * Frames shown one after the other, looping: the frames are stacked in one strip that a CSS
 * animation moves up one frame height at each frame's start time (steps: no sliding).
 */
export function renderAnimation(frames: readonly Frame[], options: SvgOptions): string {
	if (frames.length === 0) throw new Error('an animation needs at least one frame');
	const {width, height, screenWidth, screenHeight} = frameSize(frames[0]!.screen);
	const rowIds = new Map<string, string>();
	const defs: string[] = [];
	const strip: string[] = [];
	frames.forEach((frame, index) => {
		const uses: string[] = [];
		frame.screen.forEach((cells, row) => {
			const content = renderRow(cells);
			if (!content) return;
			let id = rowIds.get(content);
			if (id === undefined) {
				id = `r${rowIds.size.toString(36)}`;
				rowIds.set(content, id);
				defs.push(`<g id="${id}">${content}</g>`);
			}
			uses.push(`<use href="#${id}" y="${row * lineHeight}"/>`);
		});
		strip.push(`<g transform="translate(0 ${fixed(index * screenHeight)})">${uses.join('')}</g>`);
	});
	const total = frames.reduce((sum, frame) => sum + frame.durationMs, 0);
	let elapsed = 0;
	const stops = frames.map((frame, index) => {
		const stop = `${fixed((elapsed / total) * 100)}%{transform:translateY(${fixed(-index * screenHeight)}px)}`;
		elapsed += frame.durationMs;
		return stop;
	});
	stops.push(`100%{transform:translateY(${fixed(-(frames.length - 1) * screenHeight)}px)}`);
	const animation = `.film{animation:play ${fixed(total / 1000)}s steps(1,end) infinite}@keyframes play{${stops.join('')}}`;
	return [
		header(width, height, options.title, animation),
		`<defs><clipPath id="screen"><rect width="${fixed(screenWidth)}" height="${fixed(screenHeight)}"/></clipPath>`,
		defs.join('\n'),
		'</defs>',
		`<g transform="translate(${padding} ${padding + titleBar})" clip-path="url(#screen)"><g class="film">`,
		strip.join('\n'),
		'</g></g>',
		'</svg>',
		'',
	].join('\n');
}
