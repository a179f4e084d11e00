import './setup';
import {describe, expect, it} from 'vitest';
import {emit} from '../../source/engine/store';
import {cleanup, renderConsole, useFrozenClock} from './render-console';
import {populatedStore, withFeed} from './fixtures/populated-store';

useFrozenClock();

describe('the console at 80x24', () => {
	it('shows every pane', async () => {
		const view = await renderConsole(withFeed(populatedStore('copy')));
		expect(view.frame()).toMatchInlineSnapshot(`
			"keyferry  10.0.1.15:6379 7.2.4 → 10.0.2.40:6379 7.4.1    mig-3f9a2c1e · 00:12:34
			✓ preflight › ✓ capture › ● copy › ○ sync › ○ verify › ○ cutover › ○ done
			copy █████████████████░░░░░░░░░░░  62.3%  1.23M/1.98M keys · 12.3k/s · ETA 1m01s
			╭─ throughput per second · last 4m ──────────╮╭─ queue replay lag ─────────────╮
			│ captured ▂▂▄▇██▇▅▃▂▂▃▅▇██▇▄▂▂▂▃▆   4.20k/s ││ lag       1,234 ev · 0.4 s     │
			│ applied  ▂▂▄▇██▇▅▃▂▂▃▅▇██▇▄▂▂▂▃▆   4.10k/s ││ journal   12.4 MiB             │
			│ copied   ▄▂▂▂▃▄▆▇███▇▅▄▂▂▂▂▄▅▇██   12.3k/s ││ trend     █▇▂▂▆█▅▂▃▇ ↑ growing │
			╰────────────────────────────────────────────╯╰────────────────────────────────╯
			╭─ discrepancies 3 found · 1.2% of 250 samples · d list ───────────────────────╮
			│ missing db2  cart:77                      missing on target (hash, 4 fields) │
			│ ttl     db0  session:8f2c                 ttl 120 s != none                  │
			│ value   db0  user:1001:profile            field email: "a@old.example" != "… │
			╰──────────────────────────────────────────────────────────────────────────────╯
			source    0.4 ms · mem 2.0 GiB / 4.0 GiB · evicted 0 · monitor buf 256 KiB
			target    0.6 ms · mem 819 MiB (no limit) · evicted 0
			── log ─────────────────────────────────────────────────────────────────────────
			14:29:05 ✓ preflight passed: 1,980,000 keys, dump copy
			14:29:10 ▲ monitor-cost: MONITOR can halve source throughput at peak
			14:29:15 ● capture started
			14:29:20 ● copy started: scanning 1 db
			14:29:25 ▲ big-key: key "feed:global" is 512 MiB; copied on its own
			● copy: scanning db 0
			p pause copy  +/- copy rate  d discrepancies  ? keys  q quit"
		`);
	});
});

/** Display width of a frame line: the box and block glyphs used here are all one column wide. */
const width = (line: string) => [...line].length;

describe('the live area', () => {
	const views: Array<{name: string; keys: string[]}> = [
		{name: 'dashboard', keys: []},
		{name: 'help', keys: ['?']},
		{name: 'discrepancy list', keys: ['d', '\u001B[B', '\r']},
		{name: 'advance dialog', keys: ['\r']},
		{name: 'quit dialog', keys: ['q']},
	];

	it.each([
		[80, 24],
		[100, 30],
		[120, 40],
		[200, 60],
		[70, 16],
		[60, 12],
	])('stays shorter than a %dx%d terminal and within its width, in every view', async (columns, rows) => {
		for (const item of views) {
			const store = withFeed(populatedStore('copy', {stageStatus: 'ready'}));
			const view = await renderConsole(store, {columns, rows});
			await view.press(...item.keys);
			const lines = view.lines();
			expect(lines.length, item.name).toBeLessThan(rows);
			for (const line of lines) expect(width(line), `${item.name}: ${line}`).toBeLessThanOrEqual(columns);
			cleanup();
		}
	});

	it('uses a large terminal for taller sparklines and more log', async () => {
		const view = await renderConsole(withFeed(populatedStore('copy')), {columns: 120, rows: 40});
		expect(view.lines()).toHaveLength(39);
		expect(view.frame()).toContain(' tot │');
		expect(view.frame()).toContain('preflight started');
		expect(view.frame()).toContain('re-copies 37');
	});

	it('re-plans on resize', async () => {
		const view = await renderConsole(withFeed(populatedStore('copy')), {columns: 120, rows: 40});
		await view.resize(80, 24);
		expect(view.lines()).toHaveLength(23);
		expect(view.frame()).not.toContain(' tot │');
		await view.resize(80, 14);
		expect(view.lines()).toHaveLength(13);
		expect(view.frame()).toContain('rates captured');
	});

	it('keeps the final frame readable when the run is over', async () => {
		const store = withFeed(populatedStore('done', {stageStatus: 'finished', stageDetail: 'summary written'}));
		const view = await renderConsole(store);
		emit(store, {type: 'summary', exitCode: 0, durationMs: 754_000, ...store.getState().stats, keysCopied: 1_980_000, discrepancies: 0});
		store.setState({exitCode: 0});
		await view.press();
		expect(view.lines().slice(-2)).toEqual([
			'✓ keyferry exited with code 0: clean exit',
			'1,980,000 keys copied · 37 re-copied · 0 discrepancies in 250 samples · 12m34s',
		]);
	});
});
