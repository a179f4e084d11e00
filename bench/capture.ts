/**
 * Capture benchmark (issue #3): does the capture keep up with a source driven at full speed?
 * redis-benchmark (50 clients, random keys, SET/GET/INCR/LPUSH/HSET) hammers a local
 * redis-server while
 *   1. nothing monitors it (baseline throughput),
 *   2. keyferry captures it: CaptureStream → Journal on disk, with a journal reader parsing every
 *      line in the same process, as the applier does;
 *   3. ioredis' monitor() consumes the feed instead.
 * Every 50 ms the monitor client's output buffer on the source (omem, CLIENT LIST) is sampled;
 * small means the source never buffers for us.
 * Run: npx tsx bench/capture.ts [--requests 300000]
 */
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import Redis from 'ioredis';
import {CaptureStream} from '../source/capture/capture-stream';
import {Journal} from '../source/capture/journal';
import {Counters} from '../source/engine/counters';
import {startStandalone, type TestServer} from '../test/helpers/redis';

const requests = Number(argument('--requests') ?? 300_000);
/** Commands each benchmark client pipelines (-P): 1 is redis-benchmark's default. */
const pipelines = (argument('--pipeline') ?? '1,16').split(',').map(Number);
const tests = 'set,get,incr,lpush,hset';

function argument(name: string): string | undefined {
	const index = process.argv.indexOf(name);
	return index === -1 ? undefined : process.argv[index + 1];
}

function log(text: string): void {
	process.stderr.write(`${text}\n`);
}

interface BenchmarkRun {
	seconds: number;
	/** requests per second of each test, as redis-benchmark reports them */
	rates: Record<string, number>;
	total: number;
}

function redisBenchmark(port: number, pipeline: number): Promise<BenchmarkRun> {
	return new Promise((resolve, reject) => {
		const started = performance.now();
		const child = spawn('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-c', '50', '-n', String(requests), '-r', '100000', '-P', String(pipeline), '-t', tests, '-q'], {
			stdio: ['ignore', 'pipe', 'inherit'],
		});
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString();
		});
		child.on('error', reject);
		child.on('exit', (code) => {
			if (code !== 0) return reject(new Error(`redis-benchmark exited with ${code}`));
			const rates: Record<string, number> = {};
			for (const match of output.matchAll(/([A-Z_]+(?: \([^)]*\))?): ([\d.]+) requests per second/g)) rates[match[1]!] = Number(match[2]);
			const seconds = (performance.now() - started) / 1000;
			resolve({seconds, rates, total: requests * tests.split(',').length});
		});
	});
}

/** Samples omem of the monitor client(s) every 50 ms. */
function sampleOmem(admin: Redis, which: () => string): {stop(): Promise<{max: number; p99: number; p50: number; samples: number}>} {
	const samples: number[] = [];
	let running = true;
	const loop = (async () => {
		while (running) {
			const list = String(await admin.call('CLIENT', 'LIST', ...which().split(' ')));
			let omem = 0;
			for (const line of list.split('\n')) {
				if (!/flags=\S*O/.test(line)) continue;
				omem = Math.max(omem, Number(/omem=(\d+)/.exec(line)?.[1] ?? 0));
			}
			samples.push(omem);
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	})();
	return {
		async stop() {
			running = false;
			await loop;
			const sorted = [...samples].sort((a, b) => a - b);
			const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
			return {max: at(1), p99: at(0.99), p50: at(0.5), samples: samples.length};
		},
	};
}

async function recentMaxOutputBuffer(admin: Redis): Promise<number> {
	return Number(/client_recent_max_output_buffer:(\d+)/.exec(await admin.info('clients'))?.[1] ?? 0);
}

async function keyferryRun(server: TestServer, stateDir: string, pipeline: number) {
	const journal = await Journal.open(join(stateDir, 'journal'), {maxMemoryWindow: 64 * 1024 * 1024});
	const counters = new Counters();
	const problems: string[] = [];
	const capture = new CaptureStream({
		endpoint: {host: '127.0.0.1', port: server.port, db: 0},
		journal,
		counters,
		onGap: (gap) => problems.push(`gap: ${gap.reason}`),
		onWarning: (code, message) => problems.push(`${code}: ${message}`),
		onFatal: (code, message) => problems.push(`FATAL ${code}: ${message}`),
	});
	await capture.start();
	// The applier's side: a reader parsing every record while capture runs.
	const reader = journal.reader(journal.end);
	let parsed = 0;
	let malformed = 0;
	let peakMemory = 0;
	let readerDone = false;
	const reading = (async () => {
		for (;;) {
			const batch = await reader.read(5000);
			if (batch === null) break;
			parsed += batch.length;
			for (const record of batch) if (record.entry.kind === 'malformed') malformed++;
			peakMemory = Math.max(peakMemory, journal.memoryBytes);
		}
		readerDone = true;
	})();
	const admin = server.client();
	const sampler = sampleOmem(admin, () => `ID ${capture.clientId}`);
	const run = await redisBenchmark(server.port, pipeline);
	const omem = await sampler.stop();
	const recent = await recentMaxOutputBuffer(admin);
	await new Promise((resolve) => setTimeout(resolve, 500));
	await capture.stop();
	const captured = counters.captured;
	await journal.close();
	await reading;
	const rss = process.memoryUsage().rss;
	return {
		run,
		omem,
		recent,
		captured,
		bytes: counters.capturedBytes,
		parsed,
		malformed,
		readerDone,
		diskBytes: journal.diskBytes,
		peakMemory,
		rss,
		problems,
	};
}

async function ioredisRun(server: TestServer, pipeline: number) {
	const client = new Redis({host: '127.0.0.1', port: server.port});
	const monitor = await client.monitor();
	let events = 0;
	monitor.on('monitor', () => {
		events++;
	});
	const admin = server.client();
	const sampler = sampleOmem(admin, () => 'TYPE normal');
	const run = await redisBenchmark(server.port, pipeline);
	const omem = await sampler.stop();
	const recent = await recentMaxOutputBuffer(admin);
	await new Promise((resolve) => setTimeout(resolve, 500));
	monitor.disconnect();
	client.disconnect();
	return {run, omem, recent, events};
}

function kb(bytes: number): string {
	return `${(bytes / 1024).toFixed(0)} KiB`;
}

async function scenario(stateDir: string, pipeline: number): Promise<string[]> {
	log(`-P ${pipeline}: baseline, redis-benchmark without MONITOR…`);
	const baseServer = await startStandalone();
	const baseline = await redisBenchmark(baseServer.port, pipeline);
	await baseServer.stop();

	log(`-P ${pipeline}: keyferry capture…`);
	const kfServer = await startStandalone();
	const kf = await keyferryRun(kfServer, join(stateDir, `p${pipeline}`), pipeline);
	await kfServer.stop();

	log(`-P ${pipeline}: ioredis monitor()…`);
	const ioServer = await startStandalone();
	const io = await ioredisRun(ioServer, pipeline);
	await ioServer.stop();

	const rate = (run: BenchmarkRun) => Math.round(run.total / run.seconds).toLocaleString('en-US');
	const perTest = (run: BenchmarkRun) => Object.entries(run.rates).map(([name, value]) => `${name} ${Math.round(value / 1000)}k`).join(', ');
	return [
		`redis-benchmark -c 50 -r 100000 -P ${pipeline} -n ${requests} -t ${tests} (${(requests * 5).toLocaleString('en-US')} requests)`,
		'',
		'| monitor | source req/s (whole run) | per test (redis-benchmark) | monitor omem max | p99 | p50 | client_recent_max_output_buffer |',
		'|---|---:|---|---:|---:|---:|---:|',
		`| none | ${rate(baseline)} | ${perTest(baseline)} | – | – | – | – |`,
		`| keyferry CaptureStream → journal (+ reader parsing) | ${rate(kf.run)} | ${perTest(kf.run)} | ${kb(kf.omem.max)} | ${kb(kf.omem.p99)} | ${kb(kf.omem.p50)} | ${kb(kf.recent)} |`,
		`| ioredis monitor() | ${rate(io.run)} | ${perTest(io.run)} | ${kb(io.omem.max)} | ${kb(io.omem.p99)} | ${kb(io.omem.p50)} | ${kb(io.recent)} |`,
		'',
		`keyferry: captured ${kf.captured.toLocaleString('en-US')} lines, ${(kf.bytes / 1e6).toFixed(0)} MB (${Math.round(kf.captured / kf.run.seconds).toLocaleString('en-US')} lines/s, ${(kf.bytes / 1e6 / kf.run.seconds).toFixed(1)} MB/s over the run); reader parsed ${kf.parsed.toLocaleString('en-US')} records, ${kf.malformed} malformed; journal ${(kf.diskBytes / 1e6).toFixed(0)} MB on disk; journal memory peak ${(kf.peakMemory / 1e6).toFixed(1)} MB (window 64 MiB = 67.1 MB); process RSS ${(kf.rss / 1e6).toFixed(0)} MB; ${kf.omem.samples} omem samples; problems: ${kf.problems.length === 0 ? 'none' : kf.problems.join('; ')}`,
		`ioredis: ${io.events.toLocaleString('en-US')} monitor events; ${io.omem.samples} omem samples`,
		'',
	];
}

async function main(): Promise<void> {
	const stateDir = mkdtempSync(join(import.meta.dirname, 'out', 'capture-'));
	try {
		const lines: string[] = [];
		for (const pipeline of pipelines) lines.push(...(await scenario(stateDir, pipeline)));
		process.stdout.write(`${lines.join('\n')}\n`);
	} finally {
		rmSync(stateDir, {recursive: true, force: true});
	}
}

await main();
process.exit(0);
