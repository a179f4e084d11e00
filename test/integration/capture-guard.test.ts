/**
 * The source guard watches memory while capturing: evictions warn, and a MONITOR output buffer
 * that grows toward the source's memory limit stops capture before it can hurt the source.
 */
import {connect, type Socket} from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {monitorClientName} from '../../source/capture/capture-stream';
import {startSourceGuard, type SourceHealth} from '../../source/capture/source-guard';
import {startStandalone, waitFor, type TestServer} from '../helpers/redis';

/** A MONITOR connection named like keyferry's that never reads: its output buffer grows on the server. */
async function stalledMonitor(port: number): Promise<{socket: Socket; id: number}> {
	const socket = connect(port, '127.0.0.1');
	socket.on('error', () => {});
	let text = '';
	const ready = new Promise<void>((resolve) => {
		socket.on('data', (chunk: Buffer) => {
			text += chunk.toString('latin1');
			// SETNAME +OK, CLIENT ID :<id>, MONITOR +OK.
			if (/^\+OK\r\n:\d+\r\n\+OK\r\n/.test(text)) resolve();
		});
	});
	socket.write(`*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$${monitorClientName.length}\r\n${monitorClientName}\r\n*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n*1\r\n$7\r\nMONITOR\r\n`);
	await ready;
	socket.pause();
	const id = Number(/:(\d+)\r\n/.exec(text)![1]);
	return {socket, id};
}

/** ~`megabytes` MB of MONITOR output, overwriting one key so the dataset itself stays small. */
async function flood(server: TestServer, megabytes: number, stop: () => boolean): Promise<void> {
	const client = server.client();
	const value = 'v'.repeat(100 * 1024);
	for (let sent = 0; sent < megabytes * 10 && !stop(); sent += 20) {
		const pipeline = client.pipeline();
		for (let i = 0; i < 20; i++) pipeline.set('flood', value);
		await pipeline.exec();
	}
}

describe('source guard', () => {
	let evicting: TestServer;
	let bounded: TestServer;
	let unbounded: TestServer;

	beforeAll(async () => {
		[evicting, bounded, unbounded] = await Promise.all([
			startStandalone({args: ['--maxmemory', '3mb', '--maxmemory-policy', 'allkeys-lru']}),
			startStandalone({args: ['--maxmemory', '24mb']}),
			startStandalone(),
		]);
	});

	afterAll(async () => {
		await Promise.all([evicting?.stop(), bounded?.stop(), unbounded?.stop()]);
	});

	it('reports health and warns when the source evicts keys', async () => {
		const warnings: string[] = [];
		const health: SourceHealth[] = [];
		const guard = startSourceGuard({
			endpoint: {host: '127.0.0.1', port: evicting.port, db: 0},
			intervalMs: 100,
			onWarning: (code, message) => warnings.push(`${code}: ${message}`),
			onFatal: (code, message) => warnings.push(`FATAL ${code}: ${message}`),
			onHealth: (one) => health.push(one),
		});
		try {
			await waitFor(async () => health.length > 0, 'first health report');
			expect(health[0]).toMatchObject({address: `127.0.0.1:${evicting.port}`, maxmemory: 3 * 1024 * 1024, evictedKeys: 0});
			expect(health[0]!.latencyMs).toBeGreaterThanOrEqual(0);
			expect(health[0]!.monitorBuffer).toBeNull();
			const client = evicting.client();
			const value = 'x'.repeat(10_000);
			for (let batch = 0; batch < 10; batch++) {
				const pipeline = client.pipeline();
				for (let i = 0; i < 100; i++) pipeline.set(`key:${batch}:${i}`, value);
				await pipeline.exec();
			}
			await waitFor(async () => warnings.some((text) => text.startsWith('source-evictions')), 'eviction warning');
			expect(warnings.find((text) => text.startsWith('source-evictions'))).toMatch(/evicted \d+ key\(s\) while capturing/);
			expect(health.at(-1)!.evictedKeys).toBeGreaterThan(0);
			expect(warnings.some((text) => text.startsWith('FATAL'))).toBe(false);
		} finally {
			await guard.stop();
		}
	});

	it('stops capture before a stalled monitor buffer reaches half the free memory (maxmemory set)', async () => {
		const {socket, id} = await stalledMonitor(bounded.port);
		const warnings: string[] = [];
		const fatals: string[] = [];
		let last: SourceHealth | null = null;
		const guard = startSourceGuard({
			endpoint: {host: '127.0.0.1', port: bounded.port, db: 0},
			intervalMs: 50,
			monitorClientId: () => id,
			onWarning: (code) => warnings.push(code),
			onFatal: (code, message) => fatals.push(`${code}: ${message}`),
			onHealth: (one) => {
				last = one;
			},
		});
		try {
			await flood(bounded, 60, () => fatals.length > 0);
			await waitFor(async () => fatals.length > 0, 'the fatal');
			expect(fatals).toHaveLength(1);
			expect(fatals[0]).toMatch(/^source-memory: stopping capture: the MONITOR output buffer on 127\.0\.0\.1:\d+ reached [\d.]+ MiB \(limit [\d.]+ MiB, used_memory [\d.]+ MiB of maxmemory 24\.0 MiB\)/);
			expect(warnings).toContain('source-monitor-buffer');
			const health = last as SourceHealth | null;
			expect(health!.monitorBuffer).toBeGreaterThan(1024 * 1024);
			// Stopped before the source hit its limit.
			expect(health!.usedMemory).toBeLessThan(24 * 1024 * 1024);
		} finally {
			socket.destroy();
			await guard.stop();
		}
	});

	it('stops capture at the absolute ceiling when maxmemory is 0', async () => {
		const {socket} = await stalledMonitor(unbounded.port);
		const fatals: string[] = [];
		const guard = startSourceGuard({
			endpoint: {host: '127.0.0.1', port: unbounded.port, db: 0},
			intervalMs: 50,
			maxMonitorBuffer: 4 * 1024 * 1024,
			onWarning: () => {},
			onFatal: (code, message) => fatals.push(`${code}: ${message}`),
			onHealth: () => {},
		});
		try {
			await flood(unbounded, 60, () => fatals.length > 0);
			await waitFor(async () => fatals.length > 0, 'the fatal');
			expect(fatals[0]).toMatch(/^source-memory: .*\(limit 4\.0 MiB, used_memory [\d.]+ MiB\)/);
		} finally {
			socket.destroy();
			await guard.stop();
		}
	});

	it('falls back to client_recent_max_output_buffer when CLIENT LIST is refused', async () => {
		await unbounded.client().call('ACL', 'SETUSER', 'watcher', 'on', '>pw', '~*', '&*', '+@all', '-client');
		const warnings: string[] = [];
		const health: SourceHealth[] = [];
		const guard = startSourceGuard({
			endpoint: {host: '127.0.0.1', port: unbounded.port, db: 0, username: 'watcher', password: 'pw'},
			intervalMs: 50,
			onWarning: (code, message) => warnings.push(`${code}: ${message}`),
			onFatal: () => {},
			onHealth: (one) => health.push(one),
		});
		try {
			await waitFor(async () => health.length >= 2, 'health reports');
			expect(warnings.filter((text) => text.startsWith('source-guard'))).toHaveLength(1);
			expect(warnings[0]).toMatch(/refused CLIENT LIST .*NOPERM.*watching client_recent_max_output_buffer instead/);
			expect(typeof health.at(-1)!.monitorBuffer).toBe('number');
		} finally {
			await guard.stop();
		}
	});
});
