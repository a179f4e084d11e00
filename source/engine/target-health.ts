/**
 * The target's health for the console: latency of an INFO round trip, memory, evictions, every
 * couple of seconds. A stopped or hung target answers nothing, so one probe runs at a time:
 * probes queued behind it would pile up for as long as the target stays silent.
 */
import type Redis from 'ioredis';
import {infoNumber, parseInfo} from '../redis/info';
import type {NodeHealth} from './store';

/** @param reconnecting whether keyferry's own writer is re-establishing its connection (shown with the health line) */
export function startTargetHealth(target: Redis, reconnecting: () => boolean, report: (health: NodeHealth) => void, intervalMs = 2000): () => void {
	const address = `${target.options.host}:${target.options.port}`;
	let probing = false;
	const timer = setInterval(async () => {
		if (probing) return;
		probing = true;
		try {
			const started = performance.now();
			const info = parseInfo(await target.info('memory'));
			const stats = parseInfo(await target.info('stats'));
			report({
				address,
				latencyMs: Math.round((performance.now() - started) * 10) / 10,
				usedMemory: infoNumber(info, 'used_memory'),
				maxmemory: infoNumber(info, 'maxmemory'),
				evictedKeys: infoNumber(stats, 'evicted_keys'),
				monitorBuffer: null,
				reconnecting: reconnecting(),
			});
		} catch {
			report({address, latencyMs: null, usedMemory: 0, maxmemory: 0, evictedKeys: 0, monitorBuffer: null, reconnecting: true});
		} finally {
			probing = false;
		}
	}, intervalMs);
	timer.unref();
	return () => clearInterval(timer);
}
