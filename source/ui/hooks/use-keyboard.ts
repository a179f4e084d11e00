/**
 * The console's single input hook. It is only active when stdin can go raw (a terminal); a piped
 * stdin leaves Ctrl+C to the CLI's signal handlers.
 */
import {useInput, useStdin, type Key} from 'ink';
import {useCallback} from 'react';
import {useConsole} from '../console-context';
import {dispatchKey} from '../dispatch';
import {toKeyPresses} from '../keys';

export function useKeyboard(): void {
	const {store, ui} = useConsole();
	const {isRawModeSupported} = useStdin();
	// Stable, so Ink does not re-subscribe on every frame; the stores are read at key time.
	const onInput = useCallback(
		(input: string, key: Key) => {
			for (const press of toKeyPresses(input, key)) dispatchKey(press, store, ui);
		},
		[store, ui],
	);
	useInput(onInput, {isActive: isRawModeSupported === true});
}
