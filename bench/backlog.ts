/**
 * Backlog benchmark (issue #9): does keyferry stay within its memory window while the target is
 * paused and the backlog grows, and does the backlog drain once the target is back?
 *
 * A source and a target redis-server on loopback; `dist/keyferry.js migrate --headless --yes` runs
 * until it is in sync, then the target redis-server is stopped with SIGSTOP (it keeps its sockets
 * open and answers nothing, like a hung host: the kernel buffers fill, then keyferry's writes
 * back up). `events` write events go to the source: redis-benchmark (-P 16, SET/INCR/LPUSH/HSET
 * over 100k keys), EVAL scripts (their effects show as `lua` lines) and MULTI/EXEC blocks. Then
 * SIGCONT, and the time until keyferry reports lag 0. keyferry's RSS (VmRSS, VmHWM from
 * /proc/<pid>/status), the journal's bytes on disk and the stats lines are sampled every 250 ms
 * throughout. At the end keyferry is stopped (SIGTERM: barrier, exit 0) and
 * `keyferry verify --full` compares both servers.
 * Run: npm run build && npx tsx bench/backlog.ts [events, default 10000000]
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {startStandalone, type TestServer} from '../test/helpers/redis';

const events = Number(process.argv[2] ?? 10_000_000);
const sampleMs = 250;
const keyspace = 100_000;
/** Share of the events that are EVAL scripts (2 lines each: the EVAL and the `lua` line of its effect). */
const scriptShare = 0.03;
/** Share of the events inside MULTI/EXEC blocks (5 lines each). */
const multiShare = 0.03;

interface Stats {
	stage: string;
	captured: number;
	applied: number;
	lag: number;
	journalBytes: number;
}

interface Sample {
	at: number;
	phase: Phase;
	rssKb: number;
	hwmKb: number;
	journalDisk: number;
	captured: number;
	applied: number;
}

type Phase = 'sync' | 'build-up' | 'drain' | 'after';

function log(text: string): void {
	process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

function procStatus(pid: number): {rssKb: number; hwmKb: number} {
	try {
		const text = readFileSync(`/proc/${pid}/status`, 'utf8');
		const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
		return {rssKb: field('VmRSS'), hwmKb: field('VmHWM')};
	} catch {
		return {rssKb: 0, hwmKb: 0};
	}
}

/** Bytes of journal segment files under the state dir. */
function journalDiskBytes(dir: string): number {
	let total = 0;
	const walk = (path: string) => {
		let names: string[];
		try {
			names = readdirSync(path);
		} catch {
			return;
		}
		for (const name of names) {
			const child = join(path, name);
			try {
				const info = statSync(child);
				if (info.isDirectory()) walk(child);
				else if (name.endsWith('.seg')) total += info.size;
			} catch {
				// Deleted by a checkpoint meanwhile.
			}
		}
	};
	walk(join(dir, 'journal'));
	return total;
}

function run(command: string, args: string[]): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, {stdio: ['ignore', 'ignore', 'inherit']});
		child.on('error', reject);
		child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`))));
	});
}

/** MULTI; INCR; HSET; LPUSH; EXEC blocks over a few connections, pipelined 500 blocks at a time. */
async function transactions(source: TestServer, blocks: number): Promise<void> {
	const connections = 4;
	await Promise.all(
		Array.from({length: connections}, async (_, index) => {
			const client = source.client();
			const mine = Math.floor(blocks / connections) + (index < blocks % connections ? 1 : 0);
			for (let done = 0; done < mine; ) {
				const batch = client.pipeline();
				const count = Math.min(500, mine - done);
				for (let i = 0; i < count; i++) {
					const n = (done + i) * connections + index;
					batch.call('MULTI').incr(`tx:counter:${n % keyspace}`).hset(`tx:hash:${n % 1000}`, `f${n % 100}`, String(n)).lpush(`tx:list:${n % 100}`, String(n)).call('EXEC');
				}
				await batch.exec();
				done += count;
			}
			client.disconnect();
		}),
	);
}

function median(values: number[]): number {
	if (values.length === 0) return 0;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

const mb = (kb: number) => (kb / 1024).toFixed(1);

async function main(): Promise<void> {
	const [source, target] = await Promise.all([startStandalone({args: ['--enable-debug-command', 'local']}), startStandalone()]);
	const stateDir = mkdtempSync(join(tmpdir(), 'keyferry-backlog-'));
	const samples: Sample[] = [];
	let stats: Stats | null = null;
	let syncedAt = 0;
	let phase: Phase = 'sync';
	const warnings: string[] = [];
	let keyferry: ChildProcess | null = null;
	let sampler: NodeJS.Timeout | null = null;
	try {
		await source.client().call('DEBUG', 'POPULATE', String(keyspace), 'key', '64');
		keyferry = spawn(process.execPath, ['dist/keyferry.js', 'migrate', '--headless', '--yes', '--state-dir', stateDir, '--source', source.url, '--target', target.url], {
			stdio: ['ignore', 'pipe', 'ignore'],
		});
		const pid = keyferry.pid!;
		const exited = new Promise<number | null>((resolve) => keyferry!.on('exit', (code) => resolve(code)));
		let buffered = '';
		keyferry.stdout!.on('data', (chunk: Buffer) => {
			buffered += chunk.toString();
			const lines = buffered.split('\n');
			buffered = lines.pop() ?? '';
			for (const line of lines) {
				const event = JSON.parse(line) as {type: string; stage?: string; status?: string; message?: string} & Stats;
				if (event.type === 'stats') stats = event;
				if (event.type === 'stage' && event.stage === 'sync' && event.status === 'ready') syncedAt ||= Date.now();
				if (event.type === 'warning' || event.type === 'error') warnings.push(`${event.type}: ${event.message}`);
			}
		});
		sampler = setInterval(() => {
			const {rssKb, hwmKb} = procStatus(pid);
			const last = stats as Stats | null;
			samples.push({at: Date.now(), phase, rssKb, hwmKb, journalDisk: journalDiskBytes(stateDir), captured: last?.captured ?? 0, applied: last?.applied ?? 0});
		}, sampleMs);

		for (let i = 0; i < 1200 && !syncedAt; i++) await sleep(100);
		if (!syncedAt) throw new Error('keyferry did not reach sync within 120 s');
		await sleep(2000);
		log(`in sync; RSS ${mb(procStatus(pid).rssKb)} MB; pausing the target (SIGSTOP pid ${target.process.pid})`);

		target.process.kill('SIGSTOP');
		phase = 'build-up';
		const pausedAt = Date.now();
		const capturedBefore = (stats as Stats | null)?.captured ?? 0;
		const scriptCalls = Math.round((events * scriptShare) / 2);
		const blocks = Math.round((events * multiShare) / 5);
		const perTest = Math.round((events - scriptCalls * 2 - blocks * 5) / 4);
		const port = String(source.port);
		const generated = Date.now();
		await Promise.all([
			run('redis-benchmark', ['-h', '127.0.0.1', '-p', port, '-c', '50', '-P', '16', '-r', String(keyspace), '-n', String(perTest), '-t', 'set,incr,lpush,hset', '-q']),
			run('redis-benchmark', ['-h', '127.0.0.1', '-p', port, '-c', '10', '-P', '16', '-r', String(keyspace), '-n', String(scriptCalls), '-q', 'EVAL', "return redis.call('INCRBY', KEYS[1], 2)", '1', 'script:__rand_int__']),
			transactions(source, blocks),
		]);
		const generateSeconds = (Date.now() - generated) / 1000;
		const expected = perTest * 4 + scriptCalls * 2 + blocks * 5;
		log(`generated ${expected} events in ${generateSeconds.toFixed(1)} s; waiting for the capture to see them`);
		// The capture reads at full speed; keyferry's own sampling adds lines of its own meanwhile.
		for (let i = 0; i < 600; i++) {
			const captured = (stats as Stats | null)?.captured ?? 0;
			if (captured - capturedBefore >= expected) break;
			if (i % 10 === 9) log(`captured ${captured - capturedBefore} of ${expected}; RSS ${mb(procStatus(pid).rssKb)} MB`);
			await sleep(1000);
		}
		// Held a few seconds more: a leak would show as growth with nothing arriving.
		await sleep(5000);
		const capturedAtResume = (stats as Stats | null)?.captured ?? 0;
		const appliedAtResume = (stats as Stats | null)?.applied ?? 0;
		const backlog = capturedAtResume - appliedAtResume;
		log(`backlog ${backlog} events; resuming the target (SIGCONT)`);

		target.process.kill('SIGCONT');
		phase = 'drain';
		const resumedAt = Date.now();
		let drainedAt = 0;
		for (let i = 0; i < 36_000 && !drainedAt; i++) {
			await sleep(100);
			const last = stats as Stats | null;
			if (last && last.lag === 0 && last.applied >= capturedAtResume) drainedAt = Date.now();
		}
		if (!drainedAt) throw new Error('the backlog did not drain within an hour');
		phase = 'after';
		await sleep(2000);
		clearInterval(sampler);
		sampler = null;
		const drainSeconds = (drainedAt - resumedAt) / 1000;
		log(`drained in ${drainSeconds.toFixed(1)} s; stopping keyferry (SIGTERM)`);

		keyferry.kill('SIGTERM');
		let timer: NodeJS.Timeout | undefined;
		const code = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 600_000, 'timeout')))]);
		clearTimeout(timer);
		keyferry = null;
		const verify = await verifyFull(source, target, join(stateDir, 'verify'));
		const [sourceKeys, targetKeys] = await Promise.all([source.client().dbsize(), target.client().dbsize()]);

		const during = (name: Phase) => samples.filter((sample) => sample.phase === name).map((sample) => sample.rssKb);
		const row = (name: string, values: number[]) => `| ${name} | ${mb(Math.min(...values))} | ${mb(median(values))} | ${mb(Math.max(...values))} | ${values.length} |`;
		const peakHwm = Math.max(...samples.map((sample) => sample.hwmKb));
		const journalPeak = Math.max(...samples.map((sample) => sample.journalDisk));
		const buildUp = samples.filter((sample) => sample.phase === 'build-up');
		const quarter = (fraction: number) => buildUp[Math.min(buildUp.length - 1, Math.floor(buildUp.length * fraction))]!;
		process.stdout.write(
			[
				`events: ${events} requested (${perTest} per redis-benchmark test ×4, ${scriptCalls} EVAL, ${blocks} MULTI blocks); captured while paused: ${capturedAtResume - capturedBefore}`,
				`generation: ${generateSeconds.toFixed(1)} s (${Math.round(expected / generateSeconds)} events/s); target paused ${((resumedAt - pausedAt) / 1000).toFixed(1)} s`,
				`backlog at resume: ${backlog} events; journal on disk: ${(journalPeak / 1e6).toFixed(1)} MB at most`,
				`drain: ${drainSeconds.toFixed(1)} s, ${Math.round(backlog / drainSeconds)} events/s (stats lines once a second: ±1 s)`,
				`peak RSS (VmHWM, whole run): ${mb(peakHwm)} MB`,
				'',
				'| phase | RSS min MB | median MB | max MB | samples |',
				'|---|---:|---:|---:|---:|',
				row('in sync, before the pause', during('sync')),
				row('backlog build-up (target stopped)', during('build-up')),
				row('drain (target resumed)', during('drain')),
				'',
				`RSS at 25/50/75/100% of the build-up: ${[0.25, 0.5, 0.75, 1].map((f) => `${mb(quarter(f).rssKb)} MB (journal ${(quarter(f).journalDisk / 1e6).toFixed(0)} MB, captured ${quarter(f).captured})`).join('; ')}`,
				`keyferry exit after SIGTERM: ${String(code)}; verify --full: exit ${verify.code}, ${verify.keysChecked} keys checked, ${verify.discrepancies} discrepancies; dbsize source ${sourceKeys}, target ${targetKeys}`,
				`warnings/errors from keyferry: ${warnings.length === 0 ? 'none' : warnings.slice(0, 10).join(' | ')}`,
				`load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
			].join('\n') + '\n',
		);
	} finally {
		if (sampler) clearInterval(sampler);
		keyferry?.kill('SIGKILL');
		target.process.kill('SIGCONT');
		await Promise.all([source.stop(), target.stop()]);
		rmSync(stateDir, {recursive: true, force: true});
	}
}

/** `keyferry verify --full` at rest; its summary line carries the counts. */
function verifyFull(source: TestServer, target: TestServer, stateDir: string): Promise<{code: number | null; keysChecked: number; discrepancies: number}> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, ['dist/keyferry.js', 'verify', '--full', '--headless', '--state-dir', stateDir, '--source', source.url, '--target', target.url], {
			stdio: ['ignore', 'pipe', 'ignore'],
		});
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
		child.on('error', reject);
		child.on('exit', (code) => {
			const summary = output
				.split('\n')
				.filter((line) => line.startsWith('{'))
				.map((line) => JSON.parse(line) as {type: string; keysChecked?: number; discrepancies?: number})
				.find((event) => event.type === 'summary');
			resolve({code, keysChecked: summary?.keysChecked ?? -1, discrepancies: summary?.discrepancies ?? -1});
		});
	});
}

await main();
