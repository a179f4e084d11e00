/**
 * The one input router: a key press goes to the first entry of the current mode's keymap that
 * matches. In the typed confirmation, unmatched characters are the typed text.
 */
import type {KeyferryStore} from '../engine/store';
import {modeOf, pickShortcutState, shortcutsFor} from './keymap';
import type {KeyPress} from './keys';
import {notify, type UiStore} from './ui-store';

const maxTypedLength = 32;

export function dispatchKey(press: KeyPress, store: KeyferryStore, ui: UiStore): void {
	const state = store.getState();
	// The run is over and the final frame is being drawn; keys would only confuse it.
	if (state.exitCode !== null) return;
	// Any key shows the holder is at the keyboard: a request for the controls then waits for an answer.
	state.pairControls.active();
	const uiState = ui.getState();
	const mode = modeOf(uiState);
	const shortcut = shortcutsFor(mode).find((entry) => entry.matches(press));
	if (!shortcut) {
		if (mode === 'typed' && press.name === 'char' && uiState.dialog?.kind === 'typed' && uiState.dialog.text.length < maxTypedLength) {
			ui.setState({dialog: {...uiState.dialog, text: uiState.dialog.text + press.char}});
		}
		return;
	}
	const available = shortcut.available(pickShortcutState(state), uiState);
	if (available !== true) {
		notify(ui, `${shortcut.label(pickShortcutState(state))}: ${available}`, 'warn');
		return;
	}
	shortcut.run({store, ui, press});
}
