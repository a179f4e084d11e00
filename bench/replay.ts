/**
 * Replay benchmark (issue #4): with keyferry in sync, redis-benchmark drives the source at full
 * speed (50 clients; SET, INCR, LPUSH, HSET) for a fixed time; keyferry's `stats` lines give the
 * lag each second. Then traffic stops and the time to drain the backlog is measured.
 * Run: npm run build && npx tsx bench/replay.ts [seconds]
 */
import {spawn} from 'node:child_process';
import {startStandalone} from '../test/helpers/redis';

const seconds = Number(process.argv[2] ?? 60);

interface Stats {
	captured: number;
	applied: number;
	lag: number;
	lagSeconds: number;
	applyRate: number;
	captureRate: number;
}

async function main(): Promise<void> {
	const [source, target] = await Promise.all([startStandalone(), startStandalone()]);
	const samples: Stats[] = [];
	let synced = false;
	const keyferry = spawn(process.execPath, ['dist/keyferry.js', 'migrate', '--headless', '--yes', '--state-dir', `${target.dir}/kf`, '--source', source.url, '--target', target.url], {
		stdio: ['ignore', 'pipe', 'ignore'],
	});
	let buffered = '';
	keyferry.stdout.on('data', (chunk: Buffer) => {
		buffered += chunk.toString();
		const lines = buffered.split('\n');
		buffered = lines.pop() ?? '';
		for (const line of lines) {
			const event = JSON.parse(line) as {type: string; stage?: string} & Stats;
			if (event.type === 'stage' && event.stage === 'sync') synced = true;
			if (event.type === 'stats' && synced) samples.push(event);
		}
	});
	try {
		for (let i = 0; i < 600 && !synced; i++) await new Promise((resolve) => setTimeout(resolve, 100));
		const started = Date.now();
		const benchmark = spawn('redis-benchmark', ['-p', String(source.port), '-c', '50', '-n', '100000000', '-r', '100000', '-t', 'set,incr,lpush,hset', '-q', '-l'], {stdio: 'ignore'});
		await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
		benchmark.kill('SIGKILL');
		const loadEnd = samples.length;
		const stoppedAt = Date.now();
		let drainedAt = 0;
		for (let i = 0; i < 3000 && !drainedAt; i++) {
			await new Promise((resolve) => setTimeout(resolve, 100));
			const last = samples.at(-1);
			if (last && samples.length > loadEnd && last.lag < 100) drainedAt = Date.now();
		}
		const underLoad = samples.slice(0, loadEnd);
		const rate = (pick: (stats: Stats) => number) => Math.round(underLoad.reduce((sum, stats) => sum + pick(stats), 0) / Math.max(underLoad.length, 1));
		const maxLag = Math.max(...underLoad.map((stats) => stats.lag));
		const maxLagSeconds = Math.max(...underLoad.map((stats) => stats.lagSeconds));
		const lagAt = (fraction: number) => underLoad[Math.min(underLoad.length - 1, Math.floor(underLoad.length * fraction))]?.lag ?? 0;
		process.stdout.write(
			[
				`| load | ${seconds} s of redis-benchmark -c 50 -t set,incr,lpush,hset, MONITOR attached |`,
				'|---|---|',
				`| source commands captured | ${rate((stats) => stats.captureRate)} /s average |`,
				`| applied to the target | ${rate((stats) => stats.applyRate)} /s average |`,
				`| lag at 25% / 50% / 75% / 100% of the run | ${lagAt(0.25)} / ${lagAt(0.5)} / ${lagAt(0.75)} / ${lagAt(1)} events |`,
				`| max lag | ${maxLag} events, ${maxLagSeconds} s |`,
				`| backlog drained after load stopped | ${drainedAt ? `${((drainedAt - stoppedAt) / 1000).toFixed(1)} s` : 'not within 300 s'} |`,
				`| total run | ${((Date.now() - started) / 1000).toFixed(0)} s |`,
			].join('\n') + '\n',
		);
	} finally {
		keyferry.kill('SIGKILL');
		await Promise.all([source.stop(), target.stop()]);
	}
}

await main();
