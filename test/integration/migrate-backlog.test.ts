/**
 * A target that stops answering (SIGSTOP: sockets open, nothing read) while the source takes
 * 200k writes: the capture keeps reading, the backlog goes to the journal's disk segments past a
 * 1 MiB memory window, and once the target is back (SIGCONT) the backlog drains to an identical
 * target. The 10M-event version with RSS figures is bench/backlog.ts.
 */
import type {ChildProcess} from 'node:child_process';
import {readdirSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {runCli} from '../helpers/cli';
import {compareStandalone, migrationFixture} from '../helpers/migration';
import {waitFor, type TestServer} from '../helpers/redis';

const {pair, stateDir} = migrationFixture();

const events = 200_000;
const window = 1024 * 1024;

interface Stats {
	captured: number;
	applied: number;
	lag: number;
}

function journalDiskBytes(dir: string): number {
	let total = 0;
	for (const master of readdirSync(join(dir, 'journal'))) {
		for (const name of readdirSync(join(dir, 'journal', master))) {
			if (name.endsWith('.seg')) total += statSync(join(dir, 'journal', master, name)).size;
		}
	}
	return total;
}

/** `events` writes (SET, INCR, LPUSH, HSET and MULTI blocks) over a bounded keyspace, pipelined. */
async function writeEvents(source: TestServer): Promise<void> {
	const client = source.client();
	for (let sent = 0; sent < events; ) {
		const batch = client.pipeline();
		for (let i = 0; i < 1000; i += 10, sent += 10) {
			const n = sent + i;
			batch.set(`s:${n % 5000}`, `v${n}`).incr(`c:${n % 500}`).lpush(`l:${n % 50}`, String(n)).hset(`h:${n % 50}`, `f${n % 200}`, String(n)).set(`s:${(n + 1) % 5000}`, `w${n}`, 'PX', 600_000);
			batch.call('MULTI').incr(`c:${n % 7}`).hset(`h:tx`, `f${n % 30}`, String(n)).call('EXEC');
			batch.del(`s:${(n + 2) % 5000}`);
		}
		await batch.exec();
	}
}

describe('keyferry migrate, a stopped target', () => {
	it('journals the backlog to disk past the memory window, then drains it to an identical target', async () => {
		const [source, target] = await pair();
		const seed = source.client().pipeline();
		for (let i = 0; i < 2000; i++) seed.set(`s:${i}`, `seed${i}`);
		await seed.exec();
		const dir = stateDir();
		let stats: Stats | null = null;
		let synced = false;
		let child: ChildProcess | undefined;
		const run = runCli(['migrate', '--headless', '--yes', '--state-dir', dir, '--max-memory-window', '1mb', '--source', source.url, '--target', target.url], {
			timeoutMs: 60_000,
			onSpawn: (spawned) => (child = spawned),
			onEvent: (event) => {
				if (event.type === 'stats') stats = event as unknown as Stats;
				if (event.type === 'stage' && event['stage'] === 'sync' && event['status'] === 'ready') synced = true;
			},
		});
		const current = () => stats as Stats | null;
		await waitFor(async () => synced && current() !== null, 'sync');
		const diskBefore = journalDiskBytes(dir);
		target.process.kill('SIGSTOP');
		let capturedWhileStopped = 0;
		try {
			const before = current()!.captured;
			await writeEvents(source);
			await waitFor(async () => current()!.captured - before >= events, 'the capture to see every write');
			capturedWhileStopped = current()!.captured;
			// Nothing reaches a stopped target: the backlog is (nearly) all of it, and it is on disk.
			expect(current()!.lag).toBeGreaterThan(events * 0.9);
			expect(journalDiskBytes(dir) - diskBefore).toBeGreaterThan(10 * window);
		} finally {
			target.process.kill('SIGCONT');
		}
		await waitFor(async () => current()!.lag === 0 && current()!.applied >= capturedWhileStopped, 'the backlog to drain', 40_000);
		child!.kill('SIGTERM');
		const result = await run;
		expect(result.code, result.stderr).toBe(0);
		expect(result.events.filter((event) => event.type === 'error')).toEqual([]);
		expect(await compareStandalone(source, target)).toEqual([]);
	}, 90_000);
});
