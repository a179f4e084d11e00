/**
 * runConsole on a real terminal: the preview fixture (a fake engine, test/ui/fixtures/preview.tsx)
 * in a pseudo-terminal. Raw keys, Ctrl+C, the final frame, and what actually reaches the terminal.
 */
import {resolve} from 'node:path';
import {describe, expect, it} from 'vitest';
import {openTerminal} from './pty';

const tsx = resolve('node_modules/.bin/tsx');
const preview = resolve('test/ui/fixtures/preview.tsx');

describe('runConsole', () => {
	it('takes keys raw, quits on Ctrl+C and leaves the final frame on screen', async () => {
		const terminal = openTerminal([tsx, preview, '--static', '--ready'], {columns: 80, rows: 24});
		try {
			expect(await terminal.waitFor(/copy is ready: [^\n]*press Enter to advance to sync/, 0, 20_000), terminal.text()).not.toBeNull();
			let from = terminal.text().length;
			terminal.write('\r');
			expect(await terminal.waitFor(/Advance to sync\? \(y\/Esc\)/, from, 5000)).not.toBeNull();
			from = terminal.text().length;
			terminal.write('y');
			expect(await terminal.waitFor(/sync started/, from, 5000)).not.toBeNull();
			terminal.write('\u0003');
			expect(await terminal.exit(10_000)).toBe(0);
			const screen = terminal.text();
			expect(screen).toContain('keyferry exited with code 0: clean exit');
			// A frame as tall as the terminal makes Ink clear the screen on every update: the flicker.
			expect(terminal.raw()).not.toContain('\u001B[2J');
			// Synchronized updates: a terminal that supports them paints each frame at once.
			expect(terminal.raw()).toContain('\u001B[?2026h');
			// The cursor comes back.
			expect(terminal.raw()).toContain('\u001B[?25h');
		} finally {
			terminal.child.kill('SIGKILL');
		}
	});

	it('writes only ASCII and no colors with LANG=C and NO_COLOR', async () => {
		const terminal = openTerminal([tsx, preview, '--static'], {columns: 80, rows: 24, env: {LANG: 'C', NO_COLOR: '1'}});
		try {
			expect(await terminal.waitFor(/\[>\] copy: scanning db 0/, 0, 20_000), terminal.text()).not.toBeNull();
			const from = terminal.text().length;
			terminal.write('q');
			expect(await terminal.waitFor(/Quit\? Drains to a barrier first \(y\/Esc\)/, from, 5000)).not.toBeNull();
			terminal.write('y');
			expect(await terminal.exit(10_000)).toBe(0);
			const raw = terminal.raw();
			expect([...raw].filter((char) => char.codePointAt(0)! > 0x7e && char !== '\u007f')).toEqual([]);
			expect(raw).not.toMatch(/\u001B\[(?:3[0-8]|9[0-7]|4[0-8]|10[0-7])[;m]/);
			expect(terminal.text()).toContain('+- throughput per second | last 4m');
		} finally {
			terminal.child.kill('SIGKILL');
		}
	});
});
