import {emit, type KeyferryStore} from './store';

/** The operator's two ways out, as promises a run can race its work against. */
export interface StopSignals {
	/** Graceful: drain to a barrier, then exit. */
	stopped: Promise<'stop'>;
	/** Second Ctrl+C: stop now. */
	aborted: Promise<'abort'>;
	requestStop(): void;
	requestAbort(): void;
}

export function stopSignals(): StopSignals {
	let requestStop: () => void = () => {};
	let requestAbort: () => void = () => {};
	const stopped = new Promise<'stop'>((resolve) => {
		requestStop = () => resolve('stop');
	});
	const aborted = new Promise<'abort'>((resolve) => {
		requestAbort = () => resolve('abort');
	});
	return {stopped, aborted, requestStop, requestAbort};
}

/** The `quit` control: marks the run as stopping (once) and asks for the graceful stop. */
export function gracefulQuit(store: KeyferryStore, requestStop: () => void): () => void {
	return () => {
		if (store.getState().stopping) return;
		store.setState({stopping: true});
		emit(store, {type: 'info', message: 'stopping: draining to a barrier'});
		requestStop();
	};
}
