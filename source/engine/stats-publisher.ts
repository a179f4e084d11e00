/**
 * Copies the engine's hot counters into the store at a fixed pace (default 10 Hz) so neither the
 * console nor the headless reporter renders per event. Once a second it also pushes the
 * per-second rates into the sparkline history.
 */
import type {Counters} from './counters';
import {historyLength, type KeyferryStore} from './store';

export interface StatsPublisher {
	/** Publishes immediately (stage changes, the summary). */
	flush(): void;
	stop(): void;
}

export function startStatsPublisher(store: KeyferryStore, counters: Counters, intervalMs = 100): StatsPublisher {
	let last = {at: Date.now(), captured: counters.captured, applied: counters.applied, copied: counters.keysCopied, samples: counters.samples};
	let rates = {captureRate: 0, applyRate: 0, copyRate: 0, sampleRate: 0};

	const flush = (rollSecond = false) => {
		const now = Date.now();
		if (rollSecond) {
			const seconds = Math.max((now - last.at) / 1000, 0.001);
			rates = {
				captureRate: Math.round((counters.captured - last.captured) / seconds),
				applyRate: Math.round((counters.applied - last.applied) / seconds),
				copyRate: Math.round((counters.keysCopied - last.copied) / seconds),
				sampleRate: Math.round((counters.samples - last.samples) / seconds),
			};
			last = {at: now, captured: counters.captured, applied: counters.applied, copied: counters.keysCopied, samples: counters.samples};
		}
		const state = store.getState();
		const lag = Math.max(0, counters.captured - counters.applied);
		const lagSeconds = counters.oldestUnappliedTs === null ? 0 : Math.max(0, (now - counters.oldestUnappliedTs) / 1000);
		const stats = {
			...state.stats,
			keysCopied: counters.keysCopied,
			keysTotal: counters.keysTotal,
			captured: counters.captured,
			applied: counters.applied,
			lag,
			lagSeconds: Math.round(lagSeconds * 10) / 10,
			recopies: counters.recopies,
			samples: counters.samples,
			discrepancies: counters.discrepancies,
			journalBytes: counters.journalBytes,
			...rates,
		};
		if (!rollSecond) {
			store.setState({stats});
			return;
		}
		const push = (series: number[], value: number) => [...series.slice(1 - historyLength), value];
		store.setState({
			stats,
			history: {
				captured: push(state.history.captured, rates.captureRate),
				applied: push(state.history.applied, rates.applyRate),
				copied: push(state.history.copied, rates.copyRate),
				lag: push(state.history.lag, lag),
			},
		});
	};

	const ticksPerSecond = Math.max(1, Math.round(1000 / intervalMs));
	let tick = 0;
	const timer = setInterval(() => {
		tick = (tick + 1) % ticksPerSecond;
		flush(tick === 0);
	}, intervalMs);
	timer.unref();

	return {
		flush: () => flush(false),
		stop: () => clearInterval(timer),
	};
}
