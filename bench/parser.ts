/**
 * MONITOR parser benchmark (issue #3). A feed of 1M realistic lines is recorded once from a real
 * redis-server (bench/out/monitor-feed-1m.bin, git-ignored) driven by a mixed workload: JSON
 * sessions with and without EX, GET, HSET, INCR, LPUSH, ZADD, EXPIRE, DEL, MSET and some binary
 * values. Then, on one core:
 *   1. keyferry MonitorParser over the feed in memory (64 KiB chunks, as a socket delivers them);
 *   2. keyferry over a loopback socket: a fake server (a child process, so it does not share the
 *      measured core) answers MONITOR and streams the feed;
 *   3. ioredis' own monitor() over the same fake server (its RESP parser + monitor line split);
 * plus a check of how many lines each gets byte-exact.
 * Run: npx tsx bench/parser.ts [--runs 5] [--rerecord]
 */
import {fork} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {connect, createServer} from 'node:net';
import {join} from 'node:path';
import Redis from 'ioredis';
import {MonitorParser, parseMonitorLine, type MonitorCommand} from '../source/capture/monitor-parser';
import {startStandalone} from '../test/helpers/redis';
import {Random} from '../source/demo/random';

const lineCount = 1_000_000;
const outDir = join(import.meta.dirname, 'out');
const fixture = join(outDir, 'monitor-feed-1m.bin');
const runs = Number(argument('--runs') ?? 5);

function argument(name: string): string | undefined {
	const index = process.argv.indexOf(name);
	return index === -1 ? undefined : process.argv[index + 1];
}

function log(text: string): void {
	process.stderr.write(`${text}\n`);
}

/** Deterministic PRNG: the same workload every time. */
function random(seed: number): () => number {
	const generator = new Random(seed);
	return () => generator.next();
}

async function record(): Promise<Buffer> {
	log(`recording ${lineCount} MONITOR lines from a real redis-server…`);
	const server = await startStandalone();
	const chunks: Buffer[] = [];
	let lines = 0;
	let bytes = 0;
	const monitor = connect(server.port, '127.0.0.1');
	let skippedOk = false;
	monitor.on('data', (chunk: Buffer) => {
		if (!skippedOk) {
			chunk = chunk.subarray(chunk.indexOf('\r\n') + 2);
			skippedOk = true;
		}
		chunks.push(chunk);
		bytes += chunk.length;
		for (let lf = chunk.indexOf(10); lf !== -1; lf = chunk.indexOf(10, lf + 1)) lines++;
	});
	monitor.write('*1\r\n$7\r\nMONITOR\r\n');
	await new Promise((resolve) => setTimeout(resolve, 200));

	const next = random(1);
	const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
	const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
	const clients = Array.from({length: 8}, () => server.client());
	const session = (id: number) =>
		JSON.stringify({id, user: pick(names), roles: ['reader', 'writer'].slice(0, 1 + Math.floor(next() * 2)), seen: 1700000000 + Math.floor(next() * 1e6), cart: Array.from({length: Math.floor(next() * 4)}, () => Math.floor(next() * 1e5))});
	while (lines < lineCount + 1000) {
		await Promise.all(
			clients.map((client) => {
				const pipeline = client.pipeline();
				for (let i = 0; i < 500; i++) {
					const user = Math.floor(next() * 100_000);
					const r = next();
					if (r < 0.25) pipeline.set(`session:${user}`, session(user));
					else if (r < 0.35) pipeline.set(`session:${user}`, session(user), 'EX', 3600);
					else if (r < 0.6) pipeline.get(`session:${user}`);
					else if (r < 0.7) pipeline.hset(`user:${user}`, 'name', pick(names), 'visits', String(Math.floor(next() * 1000)));
					else if (r < 0.78) pipeline.incr(`counter:page:${Math.floor(next() * 500)}`);
					else if (r < 0.83) pipeline.lpush(`queue:jobs:${Math.floor(next() * 10)}`, JSON.stringify({job: 'email', to: `${pick(names)}@example.com`, at: Date.now()}));
					else if (r < 0.88) pipeline.zadd('leaderboard', Math.floor(next() * 1e6), `player:${user}`);
					else if (r < 0.92) pipeline.expire(`session:${user}`, 600);
					else if (r < 0.95) pipeline.del(`cache:${user}`);
					else if (r < 0.98) pipeline.set(Buffer.from(`bin:${user}`), Buffer.from(Array.from({length: 16 + Math.floor(next() * 48)}, () => Math.floor(next() * 256))));
					else pipeline.mset(`a:${user}`, '1', `b:${user}`, 'two', `c:${user}`, 'three\n"quoted"');
				}
				return pipeline.exec();
			}),
		);
	}
	await new Promise((resolve) => setTimeout(resolve, 200));
	monitor.destroy();
	await server.stop();
	const all = Buffer.concat(chunks, bytes);
	let end = 0;
	for (let i = 0; i < lineCount; i++) end = all.indexOf(10, end) + 1;
	const feed = all.subarray(0, end);
	mkdirSync(outDir, {recursive: true});
	writeFileSync(fixture, feed);
	log(`recorded ${lineCount} lines, ${(feed.length / 1e6).toFixed(1)} MB → ${fixture}`);
	return feed;
}

function loadFeed(): Promise<Buffer> | Buffer {
	if (!process.argv.includes('--rerecord') && existsSync(fixture)) return readFileSync(fixture);
	return record();
}

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

function inMemory(feed: Buffer): number {
	const parser = new MonitorParser();
	let count = 0;
	const started = performance.now();
	for (let pos = 0; pos < feed.length; pos += 65536) count += parser.push(feed.subarray(pos, pos + 65536)).length;
	const seconds = (performance.now() - started) / 1000;
	if (count !== lineCount) throw new Error(`parsed ${count} lines`);
	return seconds;
}

/** A fake Redis: answers every command with +OK; after MONITOR it streams the feed. */
async function fakeServer(feed: Buffer): Promise<number> {
	const server = createServer((socket) => {
		socket.on('error', () => {});
		let pending = '';
		socket.on('data', (chunk: Buffer) => {
			pending += chunk.toString('latin1');
			// Requests are RESP arrays of bulk strings; answer each one.
			for (;;) {
				const match = /^\*(\d+)\r\n/.exec(pending);
				if (!match) return;
				let pos = match[0].length;
				const args: string[] = [];
				for (let i = 0; i < Number(match[1]); i++) {
					const head = /^\$(\d+)\r\n/.exec(pending.slice(pos));
					if (!head || pending.length < pos + head[0].length + Number(head[1]) + 2) return;
					pos += head[0].length;
					args.push(pending.slice(pos, pos + Number(head[1])));
					pos += Number(head[1]) + 2;
				}
				pending = pending.slice(pos);
				socket.write('+OK\r\n');
				if (args[0]?.toUpperCase() === 'MONITOR') {
					// A pause after +OK: ioredis only switches to monitoring mode a tick after the reply,
					// and misreads feed lines that arrive in the same chunk as the +OK.
					setTimeout(() => {
						for (let at = 0; at < feed.length; at += 65536) socket.write(feed.subarray(at, at + 65536));
					}, 50);
				}
			}
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return (server.address() as {port: number}).port;
}

/** Runs fakeServer in a child process; resolves with its port. */
function startFakeServer(): Promise<{port: number; stop(): void}> {
	const child = fork(import.meta.filename, ['--serve'], {execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	return new Promise((resolve, reject) => {
		child.once('message', (port) => resolve({port: Number(port), stop: () => child.kill()}));
		child.once('exit', (code) => reject(new Error(`fake server exited with ${code}`)));
	});
}

function overSocket(port: number): Promise<number> {
	return new Promise((resolve, reject) => {
		const socket = connect(port, '127.0.0.1');
		const parser = new MonitorParser();
		let count = 0;
		let started = 0;
		let skip = true;
		socket.on('data', (chunk: Buffer) => {
			if (skip) {
				started = performance.now();
				chunk = chunk.subarray(5);
				skip = false;
			}
			count += parser.push(chunk).length;
			if (count === lineCount) {
				const seconds = (performance.now() - started) / 1000;
				socket.destroy();
				resolve(seconds);
			}
		});
		socket.on('error', reject);
		socket.write('*1\r\n$7\r\nMONITOR\r\n');
	});
}

async function ioredisMonitor(port: number, keep?: (args: string[]) => void): Promise<number> {
	const client = new Redis({host: '127.0.0.1', port, lazyConnect: true, enableReadyCheck: false});
	let count = 0;
	let started = 0;
	const monitor = await client.monitor();
	return new Promise((resolve) => {
		started = performance.now();
		monitor.on('monitor', (_time: string, args: string[]) => {
			count++;
			keep?.(args);
			if (count === lineCount) {
				const seconds = (performance.now() - started) / 1000;
				monitor.disconnect();
				client.disconnect();
				resolve(seconds);
			}
		});
	});
}

async function main(): Promise<void> {
	const feed = await loadFeed();
	const mb = feed.length / 1e6;
	log(`feed: ${lineCount} lines, ${mb.toFixed(1)} MB, ${(feed.length / lineCount).toFixed(0)} bytes/line`);

	inMemory(feed);
	const memory: number[] = [];
	for (let run = 0; run < runs; run++) memory.push(inMemory(feed));
	const fake = await startFakeServer();
	const port = fake.port;
	const socket: number[] = [];
	const ioredis: number[] = [];
	for (let run = 0; run < runs; run++) {
		socket.push(await overSocket(port));
		ioredis.push(await ioredisMonitor(port));
	}

	// Exactness: how many lines each side gets byte for byte (ioredis hands out strings split on `" "`).
	const exact: MonitorCommand[] = [];
	let malformed = 0;
	let end = 0;
	for (let i = 0; i < lineCount; i++) {
		const lf = feed.indexOf(10, end);
		const entry = parseMonitorLine(feed.subarray(end, lf - 1));
		if (entry.kind === 'command') exact.push(entry);
		else malformed++;
		end = lf + 1;
	}
	if (malformed > 0) throw new Error(`${malformed} malformed lines in a real feed`);
	let index = 0;
	let ioredisWrong = 0;
	await ioredisMonitor(port, (args) => {
		const want = exact[index++]!.args;
		if (args.length !== want.length || args.some((arg, a) => !Buffer.from(arg, 'utf8').equals(want[a]!))) ioredisWrong++;
	});
	fake.stop();
	const binaryLines = exact.filter((entry) => entry.args.some((arg) => arg.some((byte) => byte < 0x20 || byte > 0x7e || byte === 0x22 || byte === 0x5c))).length;

	const row = (name: string, seconds: number[]) => {
		const s = median(seconds);
		return `| ${name} | ${Math.round(lineCount / s).toLocaleString('en-US')} | ${(mb / s).toFixed(0)} | ${s.toFixed(3)} |`;
	};
	const result = [
		`feed: ${lineCount.toLocaleString('en-US')} lines, ${mb.toFixed(1)} MB; median of ${runs} runs`,
		'',
		'| parser | lines/s | MB/s | seconds |',
		'|---|---:|---:|---:|',
		row('keyferry MonitorParser, in memory (64 KiB chunks)', memory),
		row('keyferry MonitorParser, over a loopback socket', socket),
		row('ioredis 5 `monitor()`, same socket feed', ioredis),
		'',
		`exactness: keyferry decodes every line (0 malformed; byte-exactness against what was sent is proven by test/integration/capture-exact.test.ts); ioredis returns wrong arguments on ${ioredisWrong.toLocaleString('en-US')} lines (the feed has ${binaryLines.toLocaleString('en-US')} lines with escaped bytes)`,
	].join('\n');
	process.stdout.write(`${result}\n`);
}

if (process.argv.includes('--serve')) {
	process.on('disconnect', () => process.exit(0));
	process.send!(await fakeServer(readFileSync(fixture)));
} else {
	await main();
	process.exit(0);
}
