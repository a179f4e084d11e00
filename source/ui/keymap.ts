/**
 * Every key the console answers, as data. The input dispatcher routes by this table, the footer and
 * the dialogs list the available entries as hints, and the `?` overlay lists a view's entries with
 * the reason an entry does nothing right now: one table, so they never disagree.
 */
import {holds, nameOf, watchingText} from '../control/pair';
import {nextStage, typedConfirmationStages} from '../engine/stages';
import type {KeyferryState, KeyferryStore} from '../engine/store';
import {stepCopyRate} from './copy-rate';
import {formatRate} from './format';
import type {Glyphs} from './glyphs';
import type {KeyPress, NamedKey} from './keys';
import {notify, type Dialog, type UiState, type UiStore, type View} from './ui-store';

export type Mode = View | 'help' | 'confirm' | 'typed' | 'quit' | 'detach' | 'handover' | 'give';

/** The slice of the engine's state keys depend on; it changes only on stage and control changes. */
export type ShortcutState = Pick<KeyferryState, 'stage' | 'stageStatus' | 'stopping' | 'exitCode' | 'copy' | 'completedStages' | 'pair'>;

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
	/** The description on an attached console, where leaving only detaches. */
	helpAttached?: string;
	/** Pair-run keys: listed only while other consoles are attached or this one is. */
	pairOnly?: boolean;
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
	const {stage, stageStatus, stopping, exitCode, copy, completedStages, pair} = state;
	return {stage, stageStatus, stopping, exitCode, copy, completedStages, pair};
}

const views: readonly Mode[] = ['main', 'discrepancies', 'rollback'];
const allModes: readonly Mode[] = ['main', 'discrepancies', 'rollback', 'help', 'confirm', 'typed', 'quit', 'detach', 'handover', 'give'];

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

/** In a pair-run only the holder's keys act; the others watch. */
function holding(state: ShortcutState, ui: UiState): true | string {
	return holds(state.pair, ui.self) ? true : `${watchingText(state.pair)} (c asks for them)`;
}

/** The parties this console could hand the controls to, the one who asked first. */
function othersOf(state: ShortcutState, ui: UiState): string[] {
	const others = state.pair.parties.map((party) => party.id).filter((id) => id !== ui.self);
	const asker = state.pair.request;
	return asker !== null && others.includes(asker) ? [asker, ...others.filter((id) => id !== asker)] : others;
}

function notStopping(state: ShortcutState): true | string {
	if (state.stopping) return 'stopping: draining to a barrier';
	return true;
}

function duringCopy(state: ShortcutState, ui: UiState): true | string {
	const watching = holding(state, ui);
	if (watching !== true) return watching;
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
		available: (state, ui) => {
			const watching = holding(state, ui);
			if (watching !== true) return watching;
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
		available: (state, ui) => {
			const watching = holding(state, ui);
			if (watching !== true) return watching;
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
		available: (state, ui) => {
			const watching = holding(state, ui);
			if (watching !== true) return watching;
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
		helpAttached: 'detach (the default) or stop the migration, after asking',
		modes: [...views, 'help'],
		matches: char('q'),
		available: (state, ui) => {
			if (ui.attached) return true;
			const watching = holding(state, ui);
			if (watching !== true) return watching;
			return state.stopping ? 'already stopping' : true;
		},
		run: ({ui}) => ui.setState({dialog: {kind: ui.getState().attached ? 'detach' : 'quit'}, help: false, notice: null}),
		hint: true,
	},
	{
		id: 'take-controls',
		keys: text('c'),
		label: text('ask for controls'),
		help: 'ask the holder for the controls',
		pairOnly: true,
		modes: [...views, 'help'],
		matches: char('c'),
		available: (state, ui) => {
			if (holds(state.pair, ui.self)) return 'you hold the controls';
			return state.pair.request === ui.self ? `already asked ${nameOf(state.pair, state.pair.holder)}` : true;
		},
		run: ({store}) => store.getState().pairControls.requestControl(),
		hint: true,
	},
	{
		id: 'give-controls',
		keys: text('h'),
		label: text('hand over'),
		help: 'hand the controls to another console',
		pairOnly: true,
		modes: [...views, 'help'],
		matches: char('h'),
		available: (state, ui) => {
			if (state.pair.holder === null) return 'no one else is attached';
			const watching = holding(state, ui);
			if (watching !== true) return watching;
			return othersOf(state, ui).length > 0 ? true : 'no one else is attached';
		},
		run: ({store, ui}) => {
			const [to] = othersOf(pickShortcutState(store.getState()), ui.getState());
			if (to !== undefined) ui.setState({dialog: {kind: 'give', to}, help: false, notice: null});
		},
		hint: false,
	},
	{
		id: 'confirm',
		keys: text('y'),
		label: text('confirm'),
		help: 'advance',
		modes: ['confirm'],
		matches: char('y', 'Y'),
		available: holding,
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
		available: holding,
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
		available: holding,
		run: ({store, ui}) => {
			closeDialog(ui);
			store.getState().controls.quit();
			notify(ui, 'stopping: draining to a barrier');
		},
		hint: true,
	},
	{
		id: 'detach',
		keys: text('Enter'),
		label: text('detach'),
		help: 'detach this console; the migration goes on',
		modes: ['detach'],
		matches: either(named('return'), char('d', 'D')),
		available: always,
		run: ({store, ui}) => {
			closeDialog(ui);
			store.getState().pairControls.detach();
		},
		hint: true,
	},
	{
		id: 'stop-migration',
		keys: text('s'),
		label: text('stop the migration'),
		help: 'stop the migration: drain to a barrier, print the summary, exit',
		modes: ['detach'],
		matches: char('s', 'S'),
		available: (state, ui) => {
			const watching = holding(state, ui);
			if (watching !== true) return watching;
			return state.stopping ? 'already stopping' : true;
		},
		run: ({store, ui}) => {
			closeDialog(ui);
			store.getState().controls.quit();
			notify(ui, 'stopping the migration: draining to a barrier');
		},
		hint: true,
	},
	{
		id: 'handover-accept',
		keys: text('Enter'),
		label: text('hand over'),
		help: 'hand the controls to the console that asked',
		modes: ['handover'],
		matches: either(named('return'), char('y', 'Y')),
		available: always,
		run: ({store, ui}) => {
			closeDialog(ui);
			store.getState().pairControls.answerRequest(true);
		},
		hint: true,
	},
	{
		id: 'handover-decline',
		keys: text('Esc'),
		label: text('keep them'),
		help: 'keep the controls; the other console goes on watching',
		modes: ['handover'],
		matches: either(named('escape'), char('n', 'N')),
		available: always,
		run: ({store, ui}) => {
			closeDialog(ui);
			store.getState().pairControls.answerRequest(false);
		},
		hint: true,
	},
	{
		id: 'give-confirm',
		keys: text('Enter'),
		label: text('hand over'),
		help: 'hand the controls over; this console then watches',
		modes: ['give'],
		matches: either(named('return'), char('y', 'Y')),
		available: holding,
		run: ({store, ui}) => {
			const {dialog} = ui.getState();
			closeDialog(ui);
			if (dialog?.kind === 'give') store.getState().pairControls.handOver(dialog.to);
		},
		hint: true,
	},
	{
		id: 'give-next',
		keys: text('Tab'),
		label: text('next console'),
		help: 'pick the next attached console',
		modes: ['give'],
		matches: named('tab'),
		available: always,
		run: ({store, ui}) => {
			const {dialog} = ui.getState();
			if (dialog?.kind !== 'give') return;
			const others = othersOf(pickShortcutState(store.getState()), ui.getState());
			const to = others[(others.indexOf(dialog.to) + 1) % others.length];
			if (to !== undefined) ui.setState({dialog: {kind: 'give', to}});
		},
		hint: true,
	},
	{
		id: 'cancel',
		keys: text('Esc'),
		label: text('cancel'),
		help: 'close without doing anything',
		modes: ['confirm', 'typed', 'quit', 'detach', 'give'],
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
		modes: ['confirm', 'quit', 'detach', 'give'],
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
		helpAttached: 'detach now; the migration goes on',
		modes: allModes,
		matches: named('ctrl-c'),
		available: (state, ui) => (ui.attached ? true : holding(state, ui)),
		run: ({store, ui}) => {
			if (ui.getState().attached) {
				ui.setState({dialog: null});
				store.getState().pairControls.detach();
				return;
			}
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
