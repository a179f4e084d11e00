/**
 * The demo application writing to its Redis while keyferry migrates it: operations from
 * app-operations.ts, paced to `rate` commands per second, on one autopipelined connection to
 * 127.0.0.1. Bounded: at most one second of budget and a fixed number of commands in flight, so a
 * slow server slows the traffic instead of growing a queue.
 */
import {setTimeout as sleep} from 'node:timers/promises';
import Redis from 'ioredis';
import {newAppState, nextOperation} from './app-operations';
import type {DatasetPlan} from './keyspace';
import {Random} from './random';

export interface TrafficOptions {
	/** Always on 127.0.0.1: the demo never writes anywhere else. */
	port: number;
	/** Commands per second. */
	rate: number;
	plan: DatasetPlan;
	seed?: number;
	/** The first few failed commands, one line each. */
	onError?: (message: string) => void;
}

export interface TrafficStats {
	commands: number;
	errors: number;
}

export interface Traffic {
	stats(): TrafficStats;
	/** Stops sending and waits (bounded) for the replies still due; nothing is sent after it resolves. */
	stop(): Promise<TrafficStats>;
}

const tickMs = 50;
const maxInFlight = 2000;
const stopDeadlineMs = 5000;
const reportedErrors = 5;

export function startTraffic(options: TrafficOptions): Traffic {
	const client = new Redis({host: '127.0.0.1', port: options.port, enableAutoPipelining: true, maxRetriesPerRequest: 1});
	// Connection errors surface as failed commands below; ioredis reconnects by itself.
	client.on('error', () => {});
	const random = new Random(options.seed ?? 2);
	const app = newAppState(options.plan);
	const stats: TrafficStats = {commands: 0, errors: 0};
	let inFlight = 0;
	let budget = 0;
	let last = Date.now();
	let stopping = false;
	let stopped: Promise<TrafficStats> | null = null;

	const send = (name: string, args: Array<string | number>) => {
		inFlight++;
		stats.commands++;
		client.call(name, ...args).then(
			() => inFlight--,
			(error: unknown) => {
				inFlight--;
				stats.errors++;
				if (stats.errors <= reportedErrors) options.onError?.(`${name}: ${error instanceof Error ? error.message : String(error)}`);
			},
		);
	};

	const tick = () => {
		const now = Date.now();
		budget = Math.min(budget + (options.rate * (now - last)) / 1000, Math.max(options.rate, 1));
		last = now;
		while (!stopping && budget >= 1 && inFlight < maxInFlight) {
			const operation = nextOperation(random, options.plan, app, now);
			budget -= operation.commands.length;
			for (const [name, ...args] of operation.commands) send(name, args);
		}
	};
	const timer = setInterval(tick, tickMs);

	return {
		stats: () => ({...stats}),
		stop() {
			stopping = true;
			clearInterval(timer);
			stopped ??= (async () => {
				const deadline = Date.now() + stopDeadlineMs;
				while (inFlight > 0 && Date.now() < deadline) await sleep(20);
				client.disconnect();
				return {...stats};
			})();
			return stopped;
		},
	};
}
