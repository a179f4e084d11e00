import {ExitCode} from '../errors';
import {emit, setStage, type KeyferryStore} from './store';

export interface RunFailure {
	/** Settles only when the run fails, with the exit code. */
	done: Promise<number>;
	/** Reports the error, fails the current stage, and ends the run with `exitCode`. */
	failWith(code: string, message: string, exitCode?: number): void;
}

/** The one way a running pipeline ends by itself: a failure, reported through the store. */
export function runFailure(store: KeyferryStore): RunFailure {
	let fail: (exitCode: number) => void = () => {};
	const done = new Promise<number>((resolve) => {
		fail = resolve;
	});
	return {
		done,
		failWith(code, message, exitCode = ExitCode.runtime) {
			emit(store, {type: 'error', code, message});
			setStage(store, store.getState().stage, 'failed', message);
			fail(exitCode);
		},
	};
}
