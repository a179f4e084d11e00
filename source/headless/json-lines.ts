/**
 * The headless reporter: the same store the console reads, printed as JSON lines. Every feed
 * event becomes one line as it is appended; a `stats` line follows once a second; the `summary`
 * line is last. Buffers never reach here (keys in events are printable strings).
 */
import type {EngineEvent} from '../engine/events';
import type {FeedEntry, KeyferryStore} from '../engine/store';

export interface JsonLinesReporter {
	/** Prints a final stats line and detaches. */
	stop(): void;
}

/** Where the lines go: stdout, or a log file. */
export interface LineSink {
	write(text: string): unknown;
}

export function startJsonLinesReporter(store: KeyferryStore, out: LineSink, statsIntervalMs = 1000): JsonLinesReporter {
	let printed = 0;
	const write = (ts: number, event: EngineEvent | ({type: 'stats'} & object)) => {
		out.write(`${JSON.stringify({...event, ts})}\n`);
	};
	const printNew = (feed: FeedEntry[]) => {
		for (const entry of feed) {
			if (entry.seq <= printed) continue;
			// The summary is the last line: no stats line may follow it.
			if (entry.event.type === 'summary') clearInterval(timer);
			write(entry.ts, entry.event);
			printed = entry.seq;
		}
	};
	const printStats = () => {
		const state = store.getState();
		if (state.stage === 'preflight' && state.stageStatus !== 'ready') return;
		write(Date.now(), {type: 'stats', ...state.stats});
	};
	const timer = setInterval(printStats, statsIntervalMs);
	timer.unref();
	printNew(store.getState().feed);
	const unsubscribe = store.subscribe((state, previous) => {
		if (state.feedSeq !== previous.feedSeq) printNew(state.feed);
	});
	return {
		stop() {
			clearInterval(timer);
			unsubscribe();
		},
	};
}
