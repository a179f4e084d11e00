/**
 * Protects a source master while it is captured. MONITOR output that the server has not yet sent
 * to us sits in the monitor client's output buffer, which has no limit by default and counts toward
 * maxmemory: a stalled capture could make the source evict keys or run out of memory. This polls
 * INFO and the monitor client's line of CLIENT LIST, and
 * - warns (`source-evictions`) whenever evicted_keys rose, at most once per 10 s with the total;
 * - warns (`source-monitor-buffer`) when the monitor's buffer passes a quarter of its limit;
 * - calls onFatal (`source-memory`) when it passes the limit, then stops polling.
 *
 * The limit: with maxmemory set, half of the memory that was free before the buffer grew
 * (maxmemory − used_memory + buffer), at least 1 MiB, at most `maxMonitorBuffer`; so the buffer
 * can at worst double before the source reaches maxmemory. Without maxmemory, `maxMonitorBuffer`
 * (default 256 MiB). The buffer read is `omem` of the capture's connection (`CLIENT LIST ID <id>`
 * when `monitorClientId` is given, else every normal client named keyferry-monitor; monitors are
 * of type normal); when CLIENT LIST is not allowed, INFO's client_recent_max_output_buffer (the
 * largest of any client, so an upper bound).
 */
import Redis from 'ioredis';
import {endpointAddress, ioredisOptions, type NodeEndpoint} from '../redis/endpoint';
import {infoNumber, parseInfo} from '../redis/info';
import {monitorClientName} from './capture-stream';
import {errorMessage} from './resp-handshake';

export interface SourceHealth {
	address: string;
	/** Null when the last poll failed (the source is unreachable or restarting). */
	latencyMs: number | null;
	usedMemory: number;
	maxmemory: number;
	evictedKeys: number;
	monitorBuffer: number | null;
}

export interface SourceGuardOptions {
	endpoint: NodeEndpoint;
	/** Poll period, default 500 ms. */
	intervalMs?: number;
	/** Ceiling for the monitor's output buffer in bytes, default 256 MiB. */
	maxMonitorBuffer?: number;
	/** CLIENT ID of the capture's monitor connection (CaptureStream.clientId); it changes on reconnect. */
	monitorClientId?(): number | null;
	onWarning(code: string, message: string): void;
	onFatal(code: string, message: string): void;
	onHealth(health: SourceHealth): void;
}

const MiB = 1024 * 1024;
export const defaultMaxMonitorBuffer = 256 * MiB;
const evictionWarningEveryMs = 10_000;
const errorWarningEveryMs = 30_000;

/** The buffer size at which capture must stop (see the file comment). */
export function monitorBufferLimit(usedMemory: number, maxmemory: number, buffer: number, ceiling = defaultMaxMonitorBuffer): number {
	if (maxmemory <= 0) return ceiling;
	const freeBeforeBuffer = Math.max(0, maxmemory - usedMemory + buffer);
	return Math.min(ceiling, Math.max(MiB, freeBeforeBuffer / 2));
}

/** `omem` of the monitor clients named keyferry-monitor in a CLIENT LIST reply; null when none. */
const ourMonitor = new RegExp(`(?:^|\\s)name=${monitorClientName}(?:\\s|$)`);

export function monitorOutputMemory(clientList: string): number | null {
	let found: number | null = null;
	for (const line of clientList.split('\n')) {
		if (!ourMonitor.test(line)) continue;
		const omem = /(?:^|\s)omem=(\d+)/.exec(line);
		if (omem) found = Math.max(found ?? 0, Number(omem[1]));
	}
	return found;
}

export function startSourceGuard(options: SourceGuardOptions): {stop(): Promise<void>} {
	const address = endpointAddress(options.endpoint);
	const intervalMs = options.intervalMs ?? 500;
	const ceiling = options.maxMonitorBuffer ?? defaultMaxMonitorBuffer;
	const client = new Redis(
		ioredisOptions(options.endpoint, {
			connectionName: 'keyferry-guard',
			retryStrategy: (times) => Math.min(times * 200, 2000),
			maxRetriesPerRequest: 1,
		}),
	);
	client.on('error', () => {});

	let stopped = false;
	let timer: NodeJS.Timeout | null = null;
	let running: Promise<void> = Promise.resolve();
	let lastEvicted: number | null = null;
	let unreportedEvictions = 0;
	let lastEvictionWarning = 0;
	let bufferWarned = false;
	let clientListAllowed = true;
	let lastErrorWarning = 0;
	let lastHealth: SourceHealth = {address, latencyMs: null, usedMemory: 0, maxmemory: 0, evictedKeys: 0, monitorBuffer: null};

	const poll = async () => {
		const started = performance.now();
		const info = parseInfo(await client.info());
		let buffer: number | null = null;
		if (clientListAllowed) {
			try {
				const id = options.monitorClientId?.() ?? null;
				const list = id === null ? client.call('CLIENT', 'LIST', 'TYPE', 'normal') : client.call('CLIENT', 'LIST', 'ID', String(id));
				buffer = monitorOutputMemory(String(await list));
			} catch (error) {
				clientListAllowed = false;
				options.onWarning(
					'source-guard',
					`${address} refused CLIENT LIST (${errorMessage(error)}); watching client_recent_max_output_buffer instead`,
				);
			}
		}
		if (!clientListAllowed) buffer = infoNumber(info, 'client_recent_max_output_buffer');
		const latencyMs = Math.round((performance.now() - started) * 10) / 10;
		const usedMemory = infoNumber(info, 'used_memory');
		const maxmemory = infoNumber(info, 'maxmemory');
		const evictedKeys = infoNumber(info, 'evicted_keys');
		lastHealth = {address, latencyMs, usedMemory, maxmemory, evictedKeys, monitorBuffer: buffer};
		options.onHealth(lastHealth);

		if (lastEvicted !== null && evictedKeys > lastEvicted) unreportedEvictions += evictedKeys - lastEvicted;
		lastEvicted = evictedKeys;
		const now = Date.now();
		if (unreportedEvictions > 0 && now - lastEvictionWarning >= evictionWarningEveryMs) {
			options.onWarning(
				'source-evictions',
				`${address} evicted ${unreportedEvictions} key(s) while capturing (evicted_keys ${evictedKeys}, used_memory ${mib(usedMemory)} of maxmemory ${mib(maxmemory)})`,
			);
			unreportedEvictions = 0;
			lastEvictionWarning = now;
		}

		if (buffer === null) return;
		const limit = monitorBufferLimit(usedMemory, maxmemory, buffer, ceiling);
		if (buffer > limit) {
			stopped = true;
			options.onFatal(
				'source-memory',
				`stopping capture: the MONITOR output buffer on ${address} reached ${mib(buffer)} (limit ${mib(limit)}, used_memory ${mib(usedMemory)}${maxmemory > 0 ? ` of maxmemory ${mib(maxmemory)}` : ''}); keyferry is not reading fast enough and the source could evict keys or run out of memory`,
			);
			return;
		}
		if (!bufferWarned && buffer > limit / 4) {
			bufferWarned = true;
			options.onWarning('source-monitor-buffer', `the MONITOR output buffer on ${address} is ${mib(buffer)} (capture stops at ${mib(limit)})`);
		} else if (bufferWarned && buffer < limit / 8) {
			bufferWarned = false;
		}
	};

	const schedule = (delay = intervalMs) => {
		if (stopped) return;
		timer = setTimeout(() => {
			running = poll()
				.catch((error: unknown) => {
					options.onHealth({...lastHealth, latencyMs: null});
					const now = Date.now();
					if (now - lastErrorWarning < errorWarningEveryMs) return;
					lastErrorWarning = now;
					options.onWarning('source-guard', `cannot read INFO from ${address}: ${errorMessage(error)}`);
				})
				.finally(() => schedule());
		}, delay);
		timer.unref();
	};

	client.connect().catch(() => {
		// Polls report the failure; ioredis keeps retrying.
	});
	schedule(0);

	return {
		async stop() {
			stopped = true;
			if (timer) clearTimeout(timer);
			await running;
			client.disconnect();
		},
	};
}

function mib(bytes: number): string {
	return `${(bytes / MiB).toFixed(1)} MiB`;
}
