/** The CLI's entry into the console: mount Ink on the terminal, leave when the run is over. */
import {render} from 'ink';
import type {KeyferryStore} from '../engine/store';
import {App} from './app';
import {asciiStream} from './ascii-stream';
import type {ConsoleOptions} from './console-options';
import type {UiStore} from './ui-store';

export type {ConsoleOptions} from './console-options';
export {detectGlyphs} from './console-options';
export {App} from './app';

const ownedSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Frames per second at most; the store itself changes at 10 Hz. */
const maxFps = 10;

/**
 * Mounts Ink on process.stdout/stdin (only ever called when stdout is a TTY). Ctrl+C quits
 * gracefully the first time and aborts the second (the keymap's interrupt entry). Resolves once
 * the store's exitCode is set and that final frame is drawn, or at once when `detach` fires (the
 * terminal is gone, or an attached console detached: nothing more may be drawn). `ui` carries the
 * console's pair-run identity.
 */
export function runConsole(store: KeyferryStore, options: ConsoleOptions, detach?: AbortSignal, ui?: UiStore): Promise<void> {
	const ours = new Map(ownedSignals.map((signal) => [signal, new Set(process.listeners(signal))]));
	const instance = render(<App store={store} options={options} {...(ui ? {ui} : {})} />, {
		stdout: options.ascii ? asciiStream(process.stdout) : process.stdout,
		stdin: process.stdin,
		stderr: process.stderr,
		exitOnCtrlC: false,
		patchConsole: false,
		maxFps,
		// Not incrementalRendering: in Ink 6.8 it redraws one row too low once the frame has a trailing
		// newline (every frame shorter than the terminal), leaving a stale first line. The standard
		// renderer rewrites the frame in one write inside a synchronized-update block, which does not flicker.
	});
	// Ink's signal-exit (v3) adds listeners while mounting and re-raises a signal to kill the process
	// whenever the listener count happens to equal its subscriber count. The CLI owns these signals
	// (drain on the first, abort on the second, survive SIGHUP) and unmounts the console on every
	// way out, so only the listeners that were there before the mount stay.
	for (const signal of ownedSignals) {
		for (const listener of process.listeners(signal)) if (!ours.get(signal)!.has(listener)) process.off(signal, listener);
	}
	let unsubscribe = () => {};
	const finish = () => {
		unsubscribe();
		// One frame interval lets React commit the exit state; unmount then draws it as the last frame.
		setTimeout(() => instance.unmount(), 1000 / maxFps);
	};
	detach?.addEventListener('abort', () => {
		unsubscribe();
		try {
			instance.unmount();
		} catch {
			// The terminal is already gone; there is nothing left to restore.
		}
	});
	if (store.getState().exitCode !== null) finish();
	else {
		unsubscribe = store.subscribe((state) => {
			if (state.exitCode !== null) finish();
		});
	}
	return instance.waitUntilExit().then(() => undefined);
}
