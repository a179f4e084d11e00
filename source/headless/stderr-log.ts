/** Human-readable log lines on stderr in headless mode, so stdout stays pure JSON lines. */
import type {Writable} from 'node:stream';
import type {EngineEvent} from '../engine/events';
import type {KeyferryStore} from '../engine/store';

export function describeEvent(event: EngineEvent): string | null {
	switch (event.type) {
		case 'stage':
			return `stage ${event.stage}: ${event.status}${event.reason ? ` (${event.reason})` : ''}`;
		case 'info':
			return event.message;
		case 'warning':
			return `warning: ${event.message}`;
		case 'error':
			return `error: ${event.message}`;
		case 'gap':
			return `gap on ${event.node}: ${event.message}`;
		case 'discrepancy':
			return `discrepancy db${event.db} ${event.key}: ${event.kind} ${event.diff}`;
		case 'summary': {
			const parts = [`done: exit ${event.exitCode}`];
			if (event.keysCopied > 0 || event.applied > 0) parts.push(`${event.keysCopied} keys copied`, `${event.applied} events applied`);
			if (event.samples > 0 || event.discrepancies > 0) parts.push(`${event.samples} keys compared`, `${event.discrepancies} discrepancies`);
			return parts.join(', ');
		}
		default:
			return null;
	}
}

export function startStderrLog(store: KeyferryStore, err: Writable): () => void {
	let printed = 0;
	return store.subscribe((state) => {
		for (const entry of state.feed) {
			if (entry.seq <= printed) continue;
			printed = entry.seq;
			const line = describeEvent(entry.event);
			if (line !== null) err.write(`keyferry: ${line}\n`);
		}
	});
}
