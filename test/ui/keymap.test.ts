import type {Key} from 'ink';
import {describe, expect, it, vi} from 'vitest';
import {createKeyferryStore, type Controls, type KeyferryStore} from '../../source/engine/store';
import type {Stage, StageStatus} from '../../source/engine/stages';
import {detectGlyphs} from '../../source/ui/console-options';
import {dispatchKey} from '../../source/ui/dispatch';
import {modeOf, shortcuts} from '../../source/ui/keymap';
import {toKeyPresses, type KeyPress} from '../../source/ui/keys';
import {createUiStore} from '../../source/ui/ui-store';

const noKey: Key = {
	upArrow: false,
	downArrow: false,
	leftArrow: false,
	rightArrow: false,
	pageDown: false,
	pageUp: false,
	home: false,
	end: false,
	return: false,
	escape: false,
	ctrl: false,
	shift: false,
	tab: false,
	backspace: false,
	delete: false,
	meta: false,
	super: false,
	hyper: false,
	capsLock: false,
	numLock: false,
};

const chars = (text: string): KeyPress[] => [...text].map((char) => ({name: 'char', char}));

describe('toKeyPresses', () => {
	it.each<[string, Partial<Key>, KeyPress[]]>([
		['', {return: true}, [{name: 'return'}]],
		['', {escape: true, meta: true}, [{name: 'escape'}]],
		['c', {ctrl: true}, [{name: 'ctrl-c'}]],
		['', {delete: true}, [{name: 'backspace'}]],
		['', {upArrow: true}, [{name: 'up'}]],
		['q', {}, [{name: 'char', char: 'q'}]],
		['\ry', {}, [{name: 'return'}, {name: 'char', char: 'y'}]],
		['cut\x7fover\r', {}, [...chars('cut'), {name: 'backspace'}, ...chars('over'), {name: 'return'}]],
		['x', {ctrl: true}, []],
		['\x01', {}, []],
	])('%j %j', (input, key, expected) => expect(toKeyPresses(input, {...noKey, ...key})).toEqual(expected));
});

describe('detectGlyphs', () => {
	it.each([
		[{LANG: 'en_US.UTF-8'}, {}, {ascii: false, color: true}],
		[{LANG: 'C.utf8'}, {}, {ascii: false, color: true}],
		[{LANG: 'C'}, {}, {ascii: true, color: true}],
		[{}, {}, {ascii: true, color: true}],
		[{LANG: 'en_US.UTF-8', LC_ALL: 'C'}, {}, {ascii: true, color: true}],
		[{LANG: 'C', LC_CTYPE: 'en_US.UTF-8'}, {}, {ascii: false, color: true}],
		[{LANG: 'en_US.UTF-8'}, {ascii: true}, {ascii: true, color: true}],
		[{LANG: 'en_US.UTF-8', NO_COLOR: '1'}, {}, {ascii: false, color: false}],
		[{LANG: 'en_US.UTF-8', NO_COLOR: ''}, {}, {ascii: false, color: true}],
		[{LANG: 'en_US.UTF-8'}, {color: false}, {ascii: false, color: false}],
	])('%j %j', (env, flags, expected) => expect(detectGlyphs(env, flags)).toEqual(expected));
});

function fakeControls(): Controls {
	return {advance: vi.fn(), setCopyPaused: vi.fn(), setCopyRate: vi.fn(), verifyNow: vi.fn(), rollback: vi.fn(), quit: vi.fn(), abort: vi.fn()};
}

function setup(stage: Stage, stageStatus: StageStatus = 'ready') {
	const controls = fakeControls();
	const store: KeyferryStore = createKeyferryStore({stage, stageStatus, controls});
	const ui = createUiStore();
	const press = (...presses: Array<string | KeyPress>) => {
		for (const item of presses) dispatchKey(typeof item === 'string' ? {name: 'char', char: item} : item, store, ui);
	};
	return {controls, store, ui, press};
}

const enter: KeyPress = {name: 'return'};
const escape: KeyPress = {name: 'escape'};

describe('dispatchKey', () => {
	it('asks before advancing and advances on y', () => {
		const {controls, ui, press} = setup('copy');
		press(enter);
		expect(ui.getState().dialog).toEqual({kind: 'advance', from: 'copy', to: 'sync'});
		press('y');
		expect(controls.advance).toHaveBeenCalledOnce();
		expect(ui.getState().dialog).toBeNull();
	});

	it('does not advance a stage that is not ready, and says why', () => {
		const {controls, ui, press} = setup('copy', 'running');
		press(enter);
		expect(ui.getState().dialog).toBeNull();
		expect(ui.getState().notice?.text).toBe('advance: copy is not ready yet');
		expect(controls.advance).not.toHaveBeenCalled();
	});

	it('does not advance when the stage changed while the dialog was open', () => {
		const {controls, store, ui, press} = setup('copy');
		press(enter);
		store.setState({stage: 'copy', stageStatus: 'failed'});
		press('y');
		expect(controls.advance).not.toHaveBeenCalled();
		expect(ui.getState().notice).toMatchObject({text: 'not advanced: copy is failed now', tone: 'warn'});
	});

	it('needs the stage name typed to cut over', () => {
		const {controls, ui, press} = setup('verify');
		press(enter);
		expect(ui.getState().dialog).toEqual({kind: 'typed', from: 'verify', to: 'cutover', text: ''});
		press('y', enter);
		expect(controls.advance).not.toHaveBeenCalled();
		expect(ui.getState().notice?.text).toBe('type "cutover" exactly to confirm, or Esc to cancel');
		press({name: 'backspace'}, ...'cutover', enter);
		expect(controls.advance).toHaveBeenCalledOnce();
	});

	it('treats shortcut letters as text while typing', () => {
		const {controls, ui, press} = setup('verify');
		press(enter, 'q', '?', 'p');
		expect(ui.getState().dialog).toMatchObject({kind: 'typed', text: 'q?p'});
		expect(controls.quit).not.toHaveBeenCalled();
		press(escape);
		expect(ui.getState().dialog).toBeNull();
	});

	it('quits after confirmation only', () => {
		const {controls, ui, press} = setup('sync', 'running');
		press('q');
		expect(modeOf(ui.getState())).toBe('quit');
		press('n');
		expect(controls.quit).not.toHaveBeenCalled();
		press('q', 'y');
		expect(controls.quit).toHaveBeenCalledOnce();
	});

	it('quits on the first Ctrl+C and aborts on the second, even from a dialog', () => {
		const {controls, press} = setup('copy');
		press(enter, {name: 'ctrl-c'});
		expect(controls.quit).toHaveBeenCalledOnce();
		press({name: 'ctrl-c'});
		expect(controls.abort).toHaveBeenCalledOnce();
	});

	it('steps the copy rate and pauses only during copy', () => {
		const {controls, store, press} = setup('copy', 'running');
		store.setState((s) => ({stats: {...s.stats, copyRate: 12_300}}));
		press('-');
		expect(controls.setCopyRate).toHaveBeenLastCalledWith(10_000);
		store.setState({copy: {paused: false, rateLimit: 10_000}});
		press('+');
		expect(controls.setCopyRate).toHaveBeenLastCalledWith(20_000);
		press('p');
		expect(controls.setCopyPaused).toHaveBeenLastCalledWith(true);
		store.setState({stage: 'sync'});
		press('p');
		expect(controls.setCopyPaused).toHaveBeenCalledOnce();
	});

	it('verifies on demand during sync and verify', () => {
		const {controls, ui, press} = setup('sync', 'running');
		press('v');
		expect(controls.verifyNow).toHaveBeenCalledOnce();
		expect(ui.getState().notice?.text).toBe('verifying a fresh sample');
	});

	it('opens the rollback preview only after cutover', () => {
		const before = setup('verify', 'running');
		before.press('r');
		expect(before.ui.getState()).toMatchObject({view: 'main', notice: {text: 'rollback preview: available after cutover'}});
		const after = setup('cutover', 'running');
		after.press('r');
		expect(after.ui.getState().view).toBe('rollback');
		after.press(escape);
		expect(after.ui.getState().view).toBe('main');
	});

	it('applies the rollback from its preview after "rollback" is typed', () => {
		const {controls, store, ui, press} = setup('done', 'running');
		const counts = {basis: 'journal' as const, total: 1, added: 1, modified: 0, deleted: 0, byType: {string: 1}, byPrefix: {k: 1}};
		store.setState({rollback: {entries: [{key: 'k:1', db: 0, change: 'added', keyType: 'string', diff: 'adds string (1 byte)'}], total: 1, ready: true, counts}});
		press('r', 'a');
		expect(ui.getState().dialog).toEqual({kind: 'typed', from: 'done', to: 'rollback', text: ''});
		press(...chars('rollbak'), enter);
		expect(controls.rollback).not.toHaveBeenCalled();
		press({name: 'backspace'}, ...chars('ck'), enter);
		expect(controls.rollback).toHaveBeenCalledOnce();
		expect(ui.getState()).toMatchObject({dialog: null, notice: {text: 'rolling back: copying the changed keys to the source'}});
	});

	it('does not open the rollback dialog before the preview is ready', () => {
		const {ui, press} = setup('done', 'running');
		press('r', 'a');
		expect(ui.getState()).toMatchObject({dialog: null, notice: {text: 'the rollback preview is not ready yet'}});
	});

	it('ignores keys once the run is over', () => {
		const {controls, store, ui, press} = setup('copy');
		store.setState({exitCode: 0});
		press(enter, 'q', {name: 'ctrl-c'});
		expect(ui.getState().dialog).toBeNull();
		expect(controls.quit).not.toHaveBeenCalled();
	});

	it('routes each key to at most one entry per mode', () => {
		const probes: KeyPress[] = [enter, escape, {name: 'ctrl-c'}, ...chars('pq?dvr+-ynjkgG')];
		for (const mode of ['main', 'discrepancies', 'rollback', 'help', 'confirm', 'typed', 'quit'] as const) {
			for (const probe of probes) {
				const matching = shortcuts.filter((shortcut) => shortcut.modes.includes(mode) && shortcut.matches(probe));
				expect(matching.length, `${mode} ${JSON.stringify(probe)}`).toBeLessThanOrEqual(1);
			}
		}
	});
});
