/**
 * A pair-run in the console: the header says who holds the controls and how many are attached; a
 * watcher's action keys are refused with the holder's name while views and ? still work; the
 * holder is asked when someone wants the controls; an attached console's q detaches by default.
 */
import './setup';
import {describe, expect, it, vi} from 'vitest';
import type {Controls, PairControls, PairState, Party} from '../../source/engine/store';
import {createUiStore} from '../../source/ui/ui-store';
import {keys, renderConsole, useFrozenClock} from './render-console';
import {populatedStore, withFeed} from './fixtures/populated-store';

useFrozenClock();

const local: Party = {id: 'c0', name: 'ops@bastion#c0', kind: 'console'};
const alice: Party = {id: 'a1', name: 'alice@box#a1', kind: 'client'};
const bob: Party = {id: 'b2', name: 'bob@box#b2', kind: 'client'};

function controls(): Controls {
	return {advance: vi.fn(), setCopyPaused: vi.fn(), setCopyRate: vi.fn(), verifyNow: vi.fn(), rollback: vi.fn(), quit: vi.fn(), abort: vi.fn()};
}

function pairControls(): PairControls {
	return {requestControl: vi.fn(), answerRequest: vi.fn(), handOver: vi.fn(), active: vi.fn(), detach: vi.fn()};
}

function pairStore(pair: PairState) {
	return withFeed(populatedStore('copy', {stageStatus: 'ready', stageDetail: 'every scan cursor finished', pair, controls: controls(), pairControls: pairControls()}));
}

describe('a watching console', () => {
	const pair: PairState = {parties: [local, alice, bob], holder: 'a1', request: null};

	it('shows the holder in the header and refuses action keys with its name', async () => {
		const store = pairStore(pair);
		const view = await renderConsole(store, {ui: createUiStore({self: 'b2', attached: true})});
		expect(view.lines()[0]).toBe('keyferry  10.0.1…:6379 → 10.0.2…0:6379  watching alice@box#a1 · 2 att · 00:12:34');
		await view.resize(120, 30);
		expect(view.lines()[0]).toMatch(/^keyferry {2}10\.0\.1\.15:6379 7\.2\.4 → 10\.0\.2\.40:6379 7\.4\.1 +watching alice@box#a1 · 2 attached · mig-3f9a2c1e · 00:12:34$/);
		await view.resize(80, 24);
		await view.press(keys.enter);
		expect(view.lines().at(-1)).toBe('› advance: watching: alice@box#a1 holds the controls (c asks for them)');
		await view.press('p', 'v', '+');
		const {advance, setCopyPaused, verifyNow, setCopyRate} = store.getState().controls;
		for (const action of [advance, setCopyPaused, verifyNow, setCopyRate]) expect(action).not.toHaveBeenCalled();
		expect(view.frame()).not.toContain('Advance to sync?');
	});

	it('still opens views and ?, and asks for the controls with c', async () => {
		const store = pairStore(pair);
		const view = await renderConsole(store, {columns: 120, rows: 30, ui: createUiStore({self: 'b2', attached: true})});
		await view.press('?');
		expect(view.frame()).toContain('not now: watching: alice@box#a1 holds the controls');
		expect(view.frame()).toMatch(/c +ask the holder for the controls/);
		await view.press(keys.escape, 'd');
		expect(view.frame()).toContain('user:1001:profile');
		await view.press(keys.escape, 'c');
		expect(store.getState().pairControls.requestControl).toHaveBeenCalledOnce();
		expect(store.getState().pairControls.active).toHaveBeenCalled();
	});

	it('fits 80x24 in ASCII without colors', async () => {
		const store = pairStore(pair);
		const view = await renderConsole(store, {ascii: true, color: false, ui: createUiStore({self: 'b2', attached: true})});
		expect(view.lines()[0]).toMatch(/watching alice@box#a1 \| 2 att/);
		expect(view.lines().length).toBeLessThanOrEqual(23);
		// Ink's own truncation marks are made ASCII by the terminal stream (run-console), not here.
		expect(view.lines()[0]).toMatch(/^[\x20-\x7e]*$/);
		for (const line of view.lines()) expect(line.length).toBeLessThanOrEqual(80);
	});
});

describe('the holding console', () => {
	it('says so in the header and is asked when a watcher wants the controls', async () => {
		const store = pairStore({parties: [local, alice, bob], holder: 'c0', request: null});
		const view = await renderConsole(store, {ui: createUiStore({self: 'c0'})});
		expect(view.lines()[0]).toMatch(/controls: you · 2 attached · 00:12:34$/);
		// As the server does: accepting moves the controls and clears the request.
		const answer = vi.fn(() => store.setState({pair: {...store.getState().pair, holder: 'b2', request: null}}));
		store.setState({pair: {...store.getState().pair, request: 'b2'}, pairControls: {...store.getState().pairControls, answerRequest: answer}});
		await view.press();
		await new Promise((resolve) => setTimeout(resolve, 20));
		expect(view.frame()).toContain('bob@box#b2 asks for the controls. Hand them over? (Enter/Esc)');
		await view.press(keys.enter);
		expect(answer).toHaveBeenCalledWith(true);
		expect(view.frame()).not.toContain('asks for the controls');
		expect(view.lines()[0]).toContain('watching bob@box#b2');
	});

	it('declines with Esc and hands over with h', async () => {
		const store = pairStore({parties: [local, alice, bob], holder: 'c0', request: 'a1'});
		const view = await renderConsole(store, {ui: createUiStore({self: 'c0'})});
		expect(view.frame()).toContain('alice@box#a1 asks for the controls');
		await view.press(keys.escape);
		expect(store.getState().pairControls.answerRequest).toHaveBeenCalledWith(false);
		store.setState({pair: {...store.getState().pair, request: null}});
		await view.press();
		await view.press('h');
		expect(view.frame()).toContain('Hand the controls to alice@box#a1?');
		await view.press('\t');
		expect(view.frame()).toContain('Hand the controls to bob@box#b2?');
		await view.press(keys.enter);
		expect(store.getState().pairControls.handOver).toHaveBeenCalledWith('b2');
	});

	it('shows nothing of a pair-run when nobody is attached', async () => {
		const store = pairStore({parties: [local], holder: 'c0', request: null});
		const view = await renderConsole(store, {ui: createUiStore({self: 'c0'})});
		expect(view.lines()[0]).not.toContain('controls');
		await view.press(keys.enter);
		expect(view.frame()).toContain('Advance to sync? (y/Esc)');
	});
});

describe('an attached console', () => {
	it('asks on q: Enter detaches, s stops the migration', async () => {
		const store = pairStore({parties: [alice], holder: 'a1', request: null});
		const view = await renderConsole(store, {ui: createUiStore({self: 'a1', attached: true})});
		await view.press('q');
		expect(view.frame()).toContain('Detach and leave the migration running? (Enter detaches, s stops it)');
		await view.press(keys.escape, 'q', 's');
		expect(store.getState().controls.quit).toHaveBeenCalledOnce();
		expect(store.getState().pairControls.detach).not.toHaveBeenCalled();
		await view.press('q', keys.enter);
		expect(store.getState().pairControls.detach).toHaveBeenCalledOnce();
	});

	it('detaches on Ctrl+C, and a watcher cannot stop the migration', async () => {
		const store = pairStore({parties: [alice, bob], holder: 'a1', request: null});
		const view = await renderConsole(store, {ui: createUiStore({self: 'b2', attached: true})});
		await view.press('q', 's');
		expect(store.getState().controls.quit).not.toHaveBeenCalled();
		expect(view.frame()).toContain('stop the migration: watching: alice@box#a1 holds the controls');
		await view.press(keys.escape, keys.ctrlC);
		expect(store.getState().pairControls.detach).toHaveBeenCalledOnce();
		expect(store.getState().controls.quit).not.toHaveBeenCalled();
		expect(store.getState().controls.abort).not.toHaveBeenCalled();
	});
});
