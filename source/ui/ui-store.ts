/**
 * The console's own state: which view, overlay and dialog are open, typed text, the list cursor, a
 * transient notice. A tiny vanilla store (not React state) because the input handler must read the
 * current value even when several keys arrive before React re-renders.
 */
import {createStore, type StoreApi} from 'zustand/vanilla';
import type {Stage} from '../engine/stages';

export type View = 'main' | 'discrepancies' | 'rollback';

export type Dialog =
	| {kind: 'advance'; from: Stage; to: Stage}
	| {kind: 'typed'; from: Stage; to: Stage; text: string}
	| {kind: 'quit'}
	/** An attached console's q: detach (the default) or stop the migration. */
	| {kind: 'detach'}
	/** The holder is asked to hand the controls to `from`. */
	| {kind: 'handover'; from: string}
	/** The holder hands the controls to `to` (Tab picks another party). */
	| {kind: 'give'; to: string};

export type NoticeTone = 'info' | 'warn' | 'bad';

export interface Notice {
	id: number;
	text: string;
	tone: NoticeTone;
}

export interface UiState {
	view: View;
	help: boolean;
	dialog: Dialog | null;
	/** Index into the store's discrepancies (oldest first), or null to follow the newest. */
	selected: number | null;
	/** The selected discrepancy's full diff is shown. */
	detail: boolean;
	/** First rollback-preview entry shown (the list scrolls). */
	rollbackTop: number;
	notice: Notice | null;
	/** Ctrl+C presses so far: the first quits gracefully, the second aborts. */
	interrupts: number;
	/** This console's party id in a pair-run (null: not part of one). */
	self: string | null;
	/** Attached over the control socket: quitting detaches, the migration runs elsewhere. */
	attached: boolean;
}

export type UiStore = StoreApi<UiState>;

export function createUiStore(initial: Partial<UiState> = {}): UiStore {
	return createStore<UiState>()(() => ({
		view: 'main',
		help: false,
		dialog: null,
		selected: null,
		detail: false,
		rollbackTop: 0,
		notice: null,
		interrupts: 0,
		self: null,
		attached: false,
		...initial,
	}));
}

export function notify(ui: UiStore, text: string, tone: NoticeTone = 'info'): void {
	ui.setState((state) => ({notice: {id: (state.notice?.id ?? 0) + 1, text, tone}}));
}
