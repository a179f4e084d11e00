/**
 * Copy benchmark (issue #4): 1M keys of 64-byte values (DEBUG POPULATE), copied side by side on
 * this machine by
 *   1. native replication (REPLICAOF full sync),
 *   2. keyferry migrate (time until the copy stage is ready: every key RESTOREd at its marker),
 *   3. a batched SCAN + DUMP/RESTORE script (pipelined, 1000 keys a batch),
 *   4. MIGRATE … KEYS in SCAN batches of 1000.
 * Run: npm run build && npx tsx bench/copy.ts [keys]
 */
import {spawn} from 'node:child_process';
import Redis from 'ioredis';
import {startStandalone, type TestServer} from '../test/helpers/redis';

const keys = Number(process.argv[2] ?? 1_000_000);

async function populate(server: TestServer): Promise<void> {
	const client = server.client();
	await client.call('DEBUG', 'POPULATE', String(keys), 'key', '64');
	if ((await client.dbsize()) !== keys) throw new Error('populate failed');
}

async function timed(name: string, run: () => Promise<void>): Promise<{name: string; seconds: number; rate: number}> {
	const started = performance.now();
	await run();
	const seconds = (performance.now() - started) / 1000;
	const result = {name, seconds: Math.round(seconds * 100) / 100, rate: Math.round(keys / seconds)};
	process.stderr.write(`${name}: ${result.seconds}s, ${result.rate} keys/s\n`);
	return result;
}

async function waitForDbsize(client: Redis, expected: number): Promise<void> {
	for (let i = 0; i < 6000; i++) {
		if ((await client.dbsize()) >= expected) return;
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	throw new Error('target never reached the expected dbsize');
}

async function replication(source: TestServer, target: TestServer): Promise<void> {
	const client = target.client();
	await client.call('REPLICAOF', '127.0.0.1', String(source.port));
	for (let i = 0; i < 6000; i++) {
		const info = await client.info('replication');
		if (info.includes('master_link_status:up') && (await client.dbsize()) === keys) break;
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	await client.call('REPLICAOF', 'NO', 'ONE');
}

function keyferry(source: TestServer, target: TestServer): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ['dist/keyferry.js', 'migrate', '--headless', '--yes', '--state-dir', `${target.dir}/kf`, '--source', source.url, '--target', target.url], {
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		let buffered = '';
		let done = false;
		child.stdout.on('data', (chunk: Buffer) => {
			buffered += chunk.toString();
			const lines = buffered.split('\n');
			buffered = lines.pop() ?? '';
			for (const line of lines) {
				const event = JSON.parse(line) as {type: string; stage?: string; status?: string};
				if (!done && event.type === 'stage' && event.stage === 'copy' && event.status === 'ready') {
					done = true;
					child.kill('SIGTERM');
				}
			}
		});
		child.on('exit', (code) => (done && code === 0 ? resolve() : reject(new Error(`keyferry exited ${code}`))));
	});
}

async function dumpRestore(source: TestServer, target: TestServer): Promise<void> {
	const from = source.client();
	const to = target.client();
	let cursor = '0';
	do {
		const [next, batch] = await from.scanBuffer(cursor, 'COUNT', 1000);
		cursor = String(next);
		if (batch.length === 0) continue;
		const read = from.pipeline();
		for (const key of batch) read.dumpBuffer(key).pttl(key);
		const replies = (await read.exec()) ?? [];
		const write = to.pipeline();
		batch.forEach((key, index) => {
			const payload = replies[index * 2]?.[1] as Buffer | null;
			const ttl = Number(replies[index * 2 + 1]?.[1]);
			if (payload) write.restore(key, ttl > 0 ? ttl : 0, payload, 'REPLACE');
		});
		await write.exec();
	} while (cursor !== '0');
}

async function migrateKeys(source: TestServer, target: TestServer): Promise<void> {
	const from = source.client();
	let cursor = '0';
	do {
		const [next, batch] = await from.scanBuffer(cursor, 'COUNT', 1000);
		cursor = String(next);
		if (batch.length > 0) await from.callBuffer('MIGRATE', '127.0.0.1', String(target.port), '', '0', '60000', 'COPY', 'REPLACE', 'KEYS', ...batch);
	} while (cursor !== '0');
}

async function main(): Promise<void> {
	const source = await startStandalone({args: ['--enable-debug-command', 'yes']});
	const targets: TestServer[] = [];
	try {
		await populate(source);
		const results = [];
		for (const [name, run] of [
			['native replication (REPLICAOF full sync)', replication],
			['keyferry migrate (copy stage)', keyferry],
			['SCAN + DUMP/RESTORE script, 1000/batch', dumpRestore],
			['SCAN + MIGRATE KEYS, 1000/batch', migrateKeys],
		] as const) {
			const target = await startStandalone();
			targets.push(target);
			results.push(await timed(name, () => run(source, target)));
			await waitForDbsize(target.client(), keys);
			await target.stop();
		}
		process.stdout.write(`| method | ${keys} keys | keys/s |\n|---|---|---|\n`);
		for (const result of results) process.stdout.write(`| ${result.name} | ${result.seconds} s | ${result.rate} |\n`);
	} finally {
		await source.stop();
		for (const target of targets) await target.stop();
	}
}

await main();
