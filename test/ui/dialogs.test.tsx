import './setup';
import {describe, expect, it, vi} from 'vitest';
import type {Controls} from '../../source/engine/store';
import {keys, renderConsole, useFrozenClock} from './render-console';
import {populatedStore, withFeed} from './fixtures/populated-store';

useFrozenClock();

function controls(): Controls {
	return {advance: vi.fn(), setCopyPaused: vi.fn(), setCopyRate: vi.fn(), verifyNow: vi.fn(), rollback: vi.fn(), quit: vi.fn(), abort: vi.fn()};
}

/** The frame from the first line of the dialog's box down. */
function bottom(frame: string, lines: number): string {
	return frame.split('\n').slice(-lines).join('\n');
}

describe('advance confirmation', () => {
	it('asks, then advances on y', async () => {
		const store = withFeed(populatedStore('copy', {stageStatus: 'ready', stageDetail: 'every scan cursor finished', controls: controls()}));
		const view = await renderConsole(store);
		expect(view.lines().at(-2)).toBe('◆ copy is ready: every scan cursor finished · press Enter to advance to sync');
		await view.press(keys.enter);
		expect(bottom(view.frame(), 5)).toMatchInlineSnapshot(`
			"╭─ advance to sync ────────────────────────────────────────────────────────────╮
			│ copy is ready. Advance to sync? (y/Esc)                                      │
			│ Replay keeps the target following the source, live.                          │
			│ y confirm  Esc cancel                                                        │
			╰──────────────────────────────────────────────────────────────────────────────╯"
		`);
		await view.press('y');
		expect(store.getState().controls.advance).toHaveBeenCalledOnce();
		expect(view.lines().at(-1)).toBe('› advancing to sync');
	});

	it('cancels on Esc without advancing', async () => {
		const store = populatedStore('copy', {stageStatus: 'ready', controls: controls()});
		const view = await renderConsole(store);
		await view.press(keys.enter);
		expect(view.frame()).toContain('Advance to sync? (y/Esc)');
		await view.press(keys.escape);
		expect(view.frame()).not.toContain('Advance to sync?');
		expect(store.getState().controls.advance).not.toHaveBeenCalled();
	});

	it('says why Enter does nothing while the stage is running', async () => {
		const store = populatedStore('copy', {controls: controls()});
		const view = await renderConsole(store);
		await view.press(keys.enter);
		expect(view.lines().at(-1)).toBe('› advance: copy is not ready yet');
	});
});

describe('typed confirmation', () => {
	it('needs "cutover" typed; Enter with anything else does nothing', async () => {
		const store = withFeed(populatedStore('verify', {stageStatus: 'ready', stageDetail: '250 samples, 0 discrepancies', controls: controls()}));
		const view = await renderConsole(store);
		await view.press(keys.enter);
		await view.type('cutove');
		expect(bottom(view.frame(), 6)).toMatchInlineSnapshot(`
			"╭─ cutover needs the stage name typed ─────────────────────────────────────────╮
			│ Reverse capture starts on the target. Switch the application to it and stop  │
			│ writes to the source; keyferry shows when they stopped.                      │
			│ Type cutover to confirm: cutove█                                             │
			│ Enter confirm  Esc cancel                                                    │
			╰──────────────────────────────────────────────────────────────────────────────╯"
		`);
		await view.press(keys.enter);
		expect(store.getState().controls.advance).not.toHaveBeenCalled();
		expect(view.frame()).toContain('Type cutover to confirm: cutove');
		await view.type('rx');
		await view.press(keys.backspace);
		expect(view.frame()).toContain('Type cutover to confirm: cutover');
		await view.press(keys.enter);
		expect(store.getState().controls.advance).toHaveBeenCalledOnce();
		expect(view.frame()).not.toContain('Type cutover');
	});

	it('cancels on Esc and keeps shortcut letters as text', async () => {
		const store = populatedStore('verify', {stageStatus: 'ready', controls: controls()});
		const view = await renderConsole(store);
		await view.press(keys.enter);
		await view.type('q?');
		expect(view.frame()).toContain('to confirm: q?');
		await view.press(keys.escape);
		expect(view.frame()).not.toContain('to confirm');
		expect(store.getState().controls.quit).not.toHaveBeenCalled();
		expect(store.getState().controls.advance).not.toHaveBeenCalled();
	});
});

describe('quit', () => {
	it('asks "Quit? Drains to a barrier first (y/Esc)" and quits on y', async () => {
		const store = populatedStore('sync', {controls: controls()});
		const view = await renderConsole(store);
		await view.press('q');
		expect(bottom(view.frame(), 4)).toMatchInlineSnapshot(`
			"╭─ quit ───────────────────────────────────────────────────────────────────────╮
			│ Quit? Drains to a barrier first (y/Esc)                                      │
			│ y quit  Esc cancel                                                           │
			╰──────────────────────────────────────────────────────────────────────────────╯"
		`);
		await view.press('y');
		expect(store.getState().controls.quit).toHaveBeenCalledOnce();
		store.setState({stopping: true});
		await view.press();
		expect(view.lines().at(-2)).toBe('● stopping: draining to a barrier, then exiting');
	});

	it('keeps running on Esc', async () => {
		const store = populatedStore('sync', {controls: controls()});
		const view = await renderConsole(store);
		await view.press('q', keys.escape);
		expect(view.frame()).not.toContain('Quit?');
		expect(store.getState().controls.quit).not.toHaveBeenCalled();
	});

	it('quits on Ctrl+C and aborts on a second one', async () => {
		const store = populatedStore('sync', {controls: controls()});
		const view = await renderConsole(store);
		await view.press(keys.ctrlC);
		expect(store.getState().controls.quit).toHaveBeenCalledOnce();
		expect(view.frame()).toContain('Ctrl+C again aborts');
		await view.press(keys.ctrlC);
		expect(store.getState().controls.abort).toHaveBeenCalledOnce();
	});
});

describe('copy keys', () => {
	it('pause, resume and step the rate limit, with feedback', async () => {
		const store = populatedStore('copy', {controls: controls()});
		const view = await renderConsole(store);
		await view.press('p');
		expect(store.getState().controls.setCopyPaused).toHaveBeenCalledWith(true);
		expect(view.lines().at(-1)).toBe('› copy paused');
		await view.press('-');
		expect(store.getState().controls.setCopyRate).toHaveBeenCalledWith(10_000);
		expect(view.lines().at(-1)).toBe('› copy rate limit: 10.0k/s');
	});
});
