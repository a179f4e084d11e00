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
