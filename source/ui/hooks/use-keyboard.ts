/**
 * The console's single input hook. It is only active when stdin can go raw (a terminal); a piped
 * stdin leaves Ctrl+C to the CLI's signal handlers.
 */
import {useInput, useStdin} from 'ink';
import {dispatchKey} from '../dispatch';
import {toKeyPresses} from '../keys';
import {useConsole} from '../console-context';

export function useKeyboard(): void {
	const {store, ui} = useConsole();
	const {isRawModeSupported} = useStdin();
	useInput(
		(input, key) => {
			for (const press of toKeyPresses(input, key)) dispatchKey(press, store, ui);
		},
		{isActive: isRawModeSupported === true},
	);
}
