/**
 * Every key the console answers, as data. The input dispatcher routes by this table, the footer and
 * the dialogs list the available entries as hints, and the `?` overlay lists a view's entries with
 * the reason an entry does nothing right now: one table, so they never disagree.
 */
import {nextStage, typedConfirmationStages} from '../engine/stages';
import type {KeyferryState, KeyferryStore} from '../engine/store';
import {stepCopyRate} from './copy-rate';
import {formatRate} from './format';
import type {Glyphs} from './glyphs';
import type {KeyPress, NamedKey} from './keys';
import {notify, type Dialog, type UiState, type UiStore, type View} from './ui-store';

export type Mode = View | 'help' | 'confirm' | 'typed' | 'quit';

/** The slice of the engine's state keys depend on; it changes only on stage and control changes. */
export type ShortcutState = Pick<KeyferryState, 'stage' | 'stageStatus' | 'stopping' | 'exitCode' | 'copy' | 'completedStages'>;

export interface ShortcutContext {
	store: KeyferryStore;
	ui: UiStore;
	press: KeyPress;
}

export interface Shortcut {
	id: string;
	keys: (glyphs: Glyphs) => string;
	label: (state: ShortcutState) => string;
	/** The ? overlay's longer description. */
	help: string;
	modes: readonly Mode[];
	matches: (press: KeyPress) => boolean;
	/** true, or why the key does nothing right now (after its label when pressed, and in the ? overlay). */
	available: (state: ShortcutState, ui: UiState) => true | string;
	run: (context: ShortcutContext) => void;
	/** Listed as a hint in the footer or the dialog while available. */
	hint: boolean;
}

export function modeOf(ui: UiState): Mode {
	if (ui.dialog) return ui.dialog.kind === 'advance' ? 'confirm' : ui.dialog.kind;
	return ui.help ? 'help' : ui.view;
}

export function pickShortcutState(state: KeyferryState): ShortcutState {
	const {stage, stageStatus, stopping, exitCode, copy, completedStages} = state;
	return {stage, stageStatus, stopping, exitCode, copy, completedStages};
}

const views: readonly Mode[] = ['main', 'discrepancies', 'rollback'];
const allModes: readonly Mode[] = ['main', 'discrepancies', 'rollback', 'help', 'confirm', 'typed', 'quit'];

const named =
	(...names: NamedKey[]) =>
	(press: KeyPress) =>
		press.name !== 'char' && names.includes(press.name);
const char =
	(...chars: string[]) =>
	(press: KeyPress) =>
		press.name === 'char' && chars.includes(press.char);
const either =
	(...matchers: Array<(press: KeyPress) => boolean>) =>
	(press: KeyPress) =>
		matchers.some((matches) => matches(press));
const always = () => true as const;
const text = (value: string) => () => value;

function notStopping(state: ShortcutState): true | string {
	if (state.stopping) return 'stopping: draining to a barrier';
	return true;
}

function duringCopy(state: ShortcutState): true | string {
	const stopping = notStopping(state);
	if (stopping !== true) return stopping;
	return state.stage === 'copy' ? true : 'only during the copy stage';
}

function afterCutover(state: ShortcutState): boolean {
	return state.stage === 'cutover' || state.stage === 'done' || state.stage === 'rollback' || state.completedStages.includes('cutover');
}

function closeDialog(ui: UiStore): void {
	ui.setState({dialog: null});
}

/** Advances only if the stage the operator confirmed is still the one that is ready. */
function confirmAdvance({store, ui}: ShortcutContext, dialog: Extract<Dialog, {kind: 'advance' | 'typed'}>): void {
	const state = store.getState();
	closeDialog(ui);
	// Rollback branches off done (it is not the next stage): the engine starts it, not the gate.
	if (dialog.to === 'rollback') {
		if (state.stage !== dialog.from || state.stopping) {
			notify(ui, `not rolled back: ${state.stage} is ${state.stopping ? 'stopping' : state.stageStatus} now`, 'warn');
			return;
		}
		state.controls.rollback();
		notify(ui, 'rolling back: copying the changed keys to the source');
		return;
	}
	if (state.stage !== dialog.from || state.stageStatus !== 'ready' || state.stopping) {
		notify(ui, `not advanced: ${state.stage} is ${state.stopping ? 'stopping' : state.stageStatus} now`, 'warn');
		return;
	}
	state.controls.advance();
	notify(ui, `advancing to ${dialog.to}`);
}

/** Moves the list cursor; `delta` > 0 goes to older records (down the newest-first list). */
function moveSelection({store, ui}: ShortcutContext, delta: number): void {
	const count = store.getState().discrepancies.length;
	if (count === 0) return;
	const current = ui.getState().selected ?? count - 1;
	const next = Math.min(count - 1, Math.max(0, current - delta));
	// Back at the top, the list follows the newest record again.
	ui.setState({selected: next === count - 1 ? null : next});
}

/** Scrolls the rollback preview; the view keeps the last page full. */
function scrollRollback({store, ui}: ShortcutContext, delta: number): void {
	const count = store.getState().rollback?.entries.length ?? 0;
	ui.setState((state) => ({rollbackTop: Math.min(Math.max(0, count - 1), Math.max(0, state.rollbackTop + delta))}));
}

export const shortcuts: readonly Shortcut[] = [
	{
		id: 'advance',
		keys: text('Enter'),
		label: text('advance'),
		help: 'advance to the next stage',
		modes: ['main'],
		matches: named('return'),
		available: (state) => {
			const stopping = notStopping(state);
			if (stopping !== true) return stopping;
			if (state.stageStatus === 'failed') return `${state.stage} failed`;
			if (nextStage(state.stage) === undefined || state.stageStatus === 'finished') return 'nothing left to advance to';
			return state.stageStatus === 'ready' ? true : `${state.stage} is not ready yet`;
		},
		run: ({store, ui}) => {
			const {stage} = store.getState();
			const to = nextStage(stage);
			if (!to) return;
			const dialog: Dialog = typedConfirmationStages.has(to) ? {kind: 'typed', from: stage, to, text: ''} : {kind: 'advance', from: stage, to};
			ui.setState({dialog});
		},
		hint: true,
	},
	{
		id: 'pause',
		keys: text('p'),
		label: (state) => (state.copy.paused ? 'resume copy' : 'pause copy'),
		help: 'pause or resume the copy',
		modes: ['main'],
		matches: char('p'),
		available: duringCopy,
		run: ({store, ui}) => {
			const {copy, controls} = store.getState();
			controls.setCopyPaused(!copy.paused);
			notify(ui, copy.paused ? 'copy resumed' : 'copy paused');
		},
		hint: true,
	},
	{
		id: 'rate',
		keys: text('+/-'),
		label: text('copy rate'),
		help: 'raise or lower the copy rate limit',
		modes: ['main'],
		matches: char('+', '=', '-', '_'),
		available: duringCopy,
		run: ({store, ui, press}) => {
			const {copy, stats, controls} = store.getState();
			const direction = press.name === 'char' && (press.char === '+' || press.char === '=') ? 1 : -1;
			const next = stepCopyRate(copy.rateLimit, stats.copyRate, direction);
			controls.setCopyRate(next);
			notify(ui, `copy rate limit: ${next === null ? 'unlimited' : formatRate(next)}`);
		},
		hint: true,
	},
	{
		id: 'verify',
		keys: text('v'),
		label: text('verify now'),
		help: 'verify a fresh sample now',
		modes: ['main'],
		matches: char('v'),
		available: (state) => {
			const stopping = notStopping(state);
			if (stopping !== true) return stopping;
			return state.stage === 'sync' || state.stage === 'verify' ? true : 'only during sync and verify';
		},
		run: ({store, ui}) => {
			store.getState().controls.verifyNow();
			notify(ui, 'verifying a fresh sample');
		},
		hint: true,
	},
	{
		id: 'discrepancies',
		keys: text('d'),
		label: text('discrepancies'),
		help: 'open the discrepancy list',
		modes: ['main'],
		matches: char('d'),
		available: always,
		run: ({ui}) => ui.setState({view: 'discrepancies', selected: null, detail: false}),
		hint: true,
	},
	{
		id: 'rollback',
		keys: text('r'),
		label: text('rollback preview'),
		help: 'preview a rollback to the source',
		modes: ['main'],
		matches: char('r'),
		available: (state) => (afterCutover(state) ? true : 'available after cutover'),
		run: ({ui}) => ui.setState({view: 'rollback', rollbackTop: 0}),
		hint: true,
	},
	{
		id: 'rollback-apply',
		keys: text('a'),
		label: text('apply rollback'),
		help: 'copy the previewed keys back to the source (asks for rollback typed)',
		modes: ['rollback'],
		matches: char('a'),
		available: (state) => {
			const stopping = notStopping(state);
			if (stopping !== true) return stopping;
			if (state.stage === 'rollback') return 'already rolling back';
			return state.stage === 'done' ? true : 'after the cutover point is recorded';
		},
		run: ({store, ui}) => {
			const preview = store.getState().rollback;
			if (!preview?.ready) {
				notify(ui, 'the rollback preview is not ready yet', 'warn');
				return;
			}
			ui.setState({dialog: {kind: 'typed', from: 'done', to: 'rollback', text: ''}});
		},
		hint: true,
	},
	{
		id: 'rollback-scroll',
		keys: (glyphs) => `${glyphs.up}${glyphs.down}/jk`,
		label: text('scroll'),
		help: 'scroll the rollback preview',
		modes: ['rollback'],
		matches: either(named('up', 'down'), char('j', 'k')),
		available: always,
		run: (context) => {
			const {press} = context;
			scrollRollback(context, press.name === 'up' || (press.name === 'char' && press.char === 'k') ? -1 : 1);
		},
		hint: true,
	},
	{
		id: 'rollback-page',
		keys: text('PgUp/PgDn g/G'),
		label: text('page'),
		help: 'scroll the rollback preview a page at a time, or to either end',
		modes: ['rollback'],
		matches: either(named('pageup', 'pagedown', 'home', 'end'), char('g', 'G')),
		available: always,
		run: (context) => {
			const {press} = context;
			const delta =
				press.name === 'pageup' ? -10 : press.name === 'pagedown' ? 10 : press.name === 'home' || (press.name === 'char' && press.char === 'g') ? -Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
			scrollRollback(context, delta);
		},
		hint: false,
	},
	{
		id: 'newer',
		keys: (glyphs) => `${glyphs.up}/k`,
		label: text('newer'),
		help: 'select the next newer discrepancy',
		modes: ['discrepancies'],
		matches: either(named('up'), char('k')),
		available: always,
		run: (context) => moveSelection(context, -1),
		hint: true,
	},
	{
		id: 'older',
		keys: (glyphs) => `${glyphs.down}/j`,
		label: text('older'),
		help: 'select the next older discrepancy',
		modes: ['discrepancies'],
		matches: either(named('down'), char('j')),
		available: always,
		run: (context) => moveSelection(context, 1),
		hint: true,
	},
	{
		id: 'page',
		keys: text('PgUp/PgDn'),
		label: text('page'),
		help: 'move ten records at a time',
		modes: ['discrepancies'],
		matches: named('pageup', 'pagedown'),
		available: always,
		run: (context) => moveSelection(context, context.press.name === 'pageup' ? -10 : 10),
		hint: false,
	},
	{
		id: 'ends',
		keys: text('g/G'),
		label: text('newest/oldest'),
		help: 'jump to the newest or the oldest record',
		modes: ['discrepancies'],
		matches: either(named('home', 'end'), char('g', 'G')),
		available: always,
		run: (context) => {
			const {press} = context;
			const oldest = press.name === 'end' || (press.name === 'char' && press.char === 'G');
			moveSelection(context, oldest ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER);
		},
		hint: false,
	},
	{
		id: 'detail',
		keys: text('Enter'),
		label: text('toggle diff'),
		help: 'show or hide the full diff of the selected record',
		modes: ['discrepancies'],
		matches: named('return'),
		available: always,
		run: ({ui}) => ui.setState((state) => ({detail: !state.detail})),
		hint: true,
	},
	{
		id: 'back',
		keys: text('Esc'),
		label: text('back'),
		help: 'back to the dashboard',
		modes: ['discrepancies', 'rollback', 'help'],
		matches: named('escape'),
		available: always,
		run: ({ui}) => (ui.getState().help ? ui.setState({help: false}) : ui.setState({view: 'main', detail: false})),
		hint: true,
	},
	{
		id: 'help',
		keys: text('?'),
		label: text('keys'),
		help: 'show or hide these keys',
		modes: [...views, 'help'],
		matches: char('?'),
		available: always,
		run: ({ui}) => ui.setState((state) => ({help: !state.help})),
		hint: true,
	},
	{
		id: 'quit',
		keys: text('q'),
		label: text('quit'),
		help: 'quit, after asking; drains to a barrier first',
		modes: [...views, 'help'],
		matches: char('q'),
		available: (state) => (state.stopping ? 'already stopping' : true),
		run: ({ui}) => ui.setState({dialog: {kind: 'quit'}, help: false}),
		hint: true,
	},
	{
		id: 'confirm',
		keys: text('y'),
		label: text('confirm'),
		help: 'advance',
		modes: ['confirm'],
		matches: char('y', 'Y'),
		available: always,
		run: (context) => {
			const {dialog} = context.ui.getState();
			if (dialog?.kind === 'advance') confirmAdvance(context, dialog);
		},
		hint: true,
	},
	{
		id: 'confirm-typed',
		keys: text('Enter'),
		label: text('confirm'),
		help: 'advance, once the stage name is typed exactly',
		modes: ['typed'],
		matches: named('return'),
		available: always,
		run: (context) => {
			const {dialog} = context.ui.getState();
			if (dialog?.kind !== 'typed') return;
			if (dialog.text.trim() !== dialog.to) {
				notify(context.ui, `type "${dialog.to}" exactly to confirm, or Esc to cancel`, 'warn');
				return;
			}
			confirmAdvance(context, dialog);
		},
		hint: true,
	},
	{
		id: 'erase',
		keys: text('Backspace'),
		label: text('erase'),
		help: 'erase the last character',
		modes: ['typed'],
		matches: named('backspace'),
		available: always,
		run: ({ui}) =>
			ui.setState((state) => (state.dialog?.kind === 'typed' ? {dialog: {...state.dialog, text: [...state.dialog.text].slice(0, -1).join('')}} : {})),
		hint: false,
	},
	{
		id: 'quit-confirm',
		keys: text('y'),
		label: text('quit'),
		help: 'quit: drain to a barrier, print the summary, exit',
		modes: ['quit'],
		matches: char('y', 'Y'),
		available: always,
		run: ({store, ui}) => {
			closeDialog(ui);
			store.getState().controls.quit();
			notify(ui, 'stopping: draining to a barrier');
		},
		hint: true,
	},
	{
		id: 'cancel',
		keys: text('Esc'),
		label: text('cancel'),
		help: 'close without doing anything',
		modes: ['confirm', 'typed', 'quit'],
		matches: named('escape'),
		available: always,
		run: ({ui}) => closeDialog(ui),
		hint: true,
	},
	{
		id: 'no',
		keys: text('n'),
		label: text('cancel'),
		help: 'close without doing anything',
		modes: ['confirm', 'quit'],
		matches: char('n', 'N'),
		available: always,
		run: ({ui}) => closeDialog(ui),
		hint: false,
	},
	{
		id: 'interrupt',
		keys: text('Ctrl+C'),
		label: text('quit now'),
		help: 'quit now (drains to a barrier); twice: abort',
		modes: allModes,
		matches: named('ctrl-c'),
		available: always,
		run: ({store, ui}) => {
			const interrupts = ui.getState().interrupts + 1;
			ui.setState({interrupts, dialog: null});
			if (interrupts === 1) {
				store.getState().controls.quit();
				notify(ui, 'stopping: draining to a barrier · Ctrl+C again aborts', 'warn');
			} else {
				store.getState().controls.abort();
				notify(ui, 'aborting', 'bad');
			}
		},
		hint: false,
	},
];

export function shortcutsFor(mode: Mode): Shortcut[] {
	return shortcuts.filter((shortcut) => shortcut.modes.includes(mode));
}
