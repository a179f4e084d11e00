/**
 * Renders the console (or one pane) with ink-testing-library at a chosen terminal size, and writes
 * keys the way a terminal sends them, yielding to React's scheduler after each.
 */
import './setup';
import {cleanup, render} from 'ink-testing-library';
import type {ReactNode} from 'react';
import type {KeyferryStore} from '../../source/engine/store';
import {App} from '../../source/ui/app';
import {ConsoleProvider} from '../../source/ui/console-context';
import {createTheme} from '../../source/ui/theme';
import {createUiStore, type UiStore} from '../../source/ui/ui-store';
import {afterEach, beforeEach, vi} from 'vitest';
import {fixedNow} from './fixtures/populated-store';

export const keys = {
	enter: '\r',
	escape: '\u001B',
	up: '\u001B[A',
	down: '\u001B[B',
	pageDown: '\u001B[6~',
	backspace: '\u007F',
	ctrlC: '\u0003',
} as const;

export interface RenderOptions {
	columns?: number;
	rows?: number;
	ascii?: boolean;
	color?: boolean;
	ui?: UiStore;
}

export async function tick(): Promise<void> {
	await new Promise((resolve) => setImmediate(resolve));
	await new Promise((resolve) => setTimeout(resolve, 0));
}

type Rendered = ReturnType<typeof render>;

/** ink-testing-library's stdout is 100 columns and has no rows; give it a real terminal's size. */
export async function resize(rendered: Rendered, columns: number, rows: number): Promise<void> {
	Object.defineProperty(rendered.stdout, 'columns', {value: columns, configurable: true});
	Object.defineProperty(rendered.stdout, 'rows', {value: rows, configurable: true});
	rendered.stdout.emit('resize');
	await tick();
}

export interface Console {
	frame(): string;
	lines(): string[];
	press(...sequence: string[]): Promise<void>;
	type(text: string): Promise<void>;
	resize(columns: number, rows: number): Promise<void>;
	ui: UiStore;
	rendered: Rendered;
}

async function wrap(rendered: Rendered, ui: UiStore, columns: number, rows: number): Promise<Console> {
	await resize(rendered, columns, rows);
	const frame = () => rendered.lastFrame() ?? '';
	return {
		frame,
		lines: () => frame().split('\n'),
		async press(...sequence) {
			for (const key of sequence) {
				rendered.stdin.write(key);
				await tick();
			}
		},
		async type(text) {
			for (const char of text) {
				rendered.stdin.write(char);
				await tick();
			}
		},
		resize: (c, r) => resize(rendered, c, r),
		ui,
		rendered,
	};
}

export async function renderConsole(store: KeyferryStore, options: RenderOptions = {}): Promise<Console> {
	const ui = options.ui ?? createUiStore();
	const rendered = render(<App store={store} options={{ascii: options.ascii ?? false, color: options.color ?? false}} ui={ui} />);
	return wrap(rendered, ui, options.columns ?? 80, options.rows ?? 24);
}

/** One pane on its own, inside the console's context. */
export async function renderPane(node: ReactNode, store: KeyferryStore, options: RenderOptions = {}): Promise<Console> {
	const ui = options.ui ?? createUiStore();
	const value = {store, ui, theme: createTheme({ascii: options.ascii ?? false, color: options.color ?? false})};
	const rendered = render(<ConsoleProvider value={value}>{node}</ConsoleProvider>);
	return wrap(rendered, ui, options.columns ?? 80, options.rows ?? 24);
}

export {cleanup};

/** Every console test sees the same wall clock (elapsed times, log timestamps) and unmounts after itself. */
export function useFrozenClock(): void {
	beforeEach(() => {
		vi.useFakeTimers({toFake: ['Date']});
		vi.setSystemTime(fixedNow);
	});
	afterEach(() => {
		cleanup();
		vi.useRealTimers();
	});
}
