import {describe, expect, it} from 'vitest';
import {applySgr, defaultStyle, parseScreen, screenText} from '../../scripts/ansi-screen';
import {paletteColor, renderAnimation, renderRow, renderStill} from '../../scripts/screen-svg';

const esc = '\u001B[';

describe('parseScreen', () => {
	it('reads text and SGR styles into a fixed grid', () => {
		const screen = parseScreen(`${esc}1m${esc}96mkeyferry${esc}0m ok\nsecond`, 12, 3);
		expect(screen).toHaveLength(3);
		expect(screen.every((row) => row.length === 12)).toBe(true);
		expect(screen[0]![0]!.style).toMatchObject({bold: true, fg: 14});
		expect(screen[0]![9]!.style).toEqual(defaultStyle);
		expect(screenText(screen)).toBe('keyferry ok\nsecond\n');
	});

	it('carries a style from one row to the next, as tmux prints it', () => {
		const screen = parseScreen(`${esc}90m──\n│x`, 4, 2);
		expect(screen[1]![0]!.style.fg).toBe(8);
	});

	it('gives wide characters two cells and drops other escapes', () => {
		const screen = parseScreen(`日本${esc}?25la\u001B]8;;https://x\u0007b`, 8, 1);
		expect(screen[0]!.map((cell) => cell.char).join('')).toBe('日本ab  ');
		expect(screen[0]![0]!.width).toBe(2);
	});

	it('applies 256 and true colors, inverse and resets', () => {
		expect(applySgr(defaultStyle, '38;5;208')).toMatchObject({fg: 208});
		expect(applySgr(defaultStyle, '48;2;255;0;16')).toMatchObject({bg: '#ff0010'});
		expect(applySgr(applySgr(defaultStyle, '1;2;7'), '22;27')).toEqual(defaultStyle);
		expect(applySgr(applySgr(defaultStyle, '31'), '')).toEqual(defaultStyle);
	});
});

describe('screen-svg', () => {
	it('maps the xterm palette', () => {
		expect(paletteColor(16)).toBe('#000000');
		expect(paletteColor(231)).toBe('#ffffff');
		expect(paletteColor(232)).toBe('#080808');
	});

	it('draws text runs stretched to their cells, blocks as one rect, borders as paths', () => {
		const [row] = parseScreen(`a<b ${esc}32m███${esc}0m╭──╮`, 12, 1);
		const svg = renderRow(row!);
		expect(svg).toContain('textLength="25.2"');
		expect(svg).toContain('a&lt;b</text>');
		expect(svg.match(/<rect/g)).toHaveLength(1);
		expect(svg).toMatch(/<rect x="33.6" y="0" width="25.2" height="18" fill="#98c379"\/>/);
		expect(svg.match(/<path/g)).toHaveLength(1);
	});

	it('renders a still and an animation that stores each distinct row once', () => {
		const a = parseScreen('same\nframe one', 10, 2);
		const b = parseScreen('same\nframe two', 10, 2);
		expect(renderStill(a, {title: 't'})).toMatch(/^<svg [^>]*width="112" height="94"/);
		const svg = renderAnimation(
			[
				{screen: a, durationMs: 500},
				{screen: b, durationMs: 1500},
			],
			{title: 't'},
		);
		expect(svg.match(/<g id="/g)).toHaveLength(3);
		expect(svg.match(/<use /g)).toHaveLength(4);
		expect(svg).toContain('animation:play 2s steps(1,end) infinite');
		expect(svg).toContain('25%{transform:translateY(-36px)}');
	});
});
