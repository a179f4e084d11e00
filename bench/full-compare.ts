/**
 * Full compare of N small keys (DEBUG POPULATE on two fresh redis-servers), keyferry's
 * fullCompare against a naive script: SCAN, then per key TYPE and GET/HGETALL on both sides, one
 * command at a time.
 *
 *   npx tsx bench/full-compare.ts [--keys 1000000] [--runs 3] [--naive-keys 100000]
 *
 * `--naive-keys 0` runs the naive script over every key (minutes at 1M keys); by default it stops
 * after 100k keys and its rate is reported for those.
 */
import {readFileSync} from 'node:fs';
import {cpus} from 'node:os';
import {parseArgs} from 'node:util';
import type Redis from 'ioredis';
import {startStandalone, type TestServer} from '../test/helpers/redis';
import {fullCompare} from '../source/verify/full-compare';

const {values} = parseArgs({
	options: {
		keys: {type: 'string', default: '1000000'},
		runs: {type: 'string', default: '3'},
		'naive-keys': {type: 'string', default: '100000'},
	},
});
const keyCount = Number(values.keys);
const runs = Number(values.runs);
const naiveLimit = Number(values['naive-keys']) || Infinity;

async function naiveCompare(source: Redis, target: Redis, limit: number): Promise<{checked: number; differences: number; ms: number}> {
	const started = performance.now();
	let checked = 0;
	let differences = 0;
	let cursor = '0';
	do {
		const [next, keys] = await source.scanBuffer(cursor, 'COUNT', 1000);
		cursor = next.toString();
		for (const key of keys) {
			const type = await source.type(key);
			if ((await target.type(key)) !== type) differences++;
			else if (type === 'string') {
				const a = await source.getBuffer(key);
				const b = await target.getBuffer(key);
				if (a === null || b === null || !a.equals(b)) differences++;
			} else if (type === 'hash') {
				const a = await source.hgetallBuffer(key);
				const b = await target.hgetallBuffer(key);
				if (JSON.stringify(a) !== JSON.stringify(b)) differences++;
			}
			checked++;
		}
	} while (cursor !== '0' && checked < limit);
	return {checked, differences, ms: performance.now() - started};
}

const rate = (keys: number, ms: number) => Math.round((keys / ms) * 1000);

/** CPU seconds used so far by a process (Linux /proc; clock ticks are 1/100 s). */
function cpuSeconds(pid: number | undefined): number {
	const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
	return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU per key of this process and the two servers while `work` runs: unlike keys/s, it does not
 * depend on what else the machine is doing.
 */
async function cpuPerKey<T extends {checked: number}>(work: () => Promise<T>): Promise<T & {cpu: string}> {
	const pids = servers.map((server) => server.process.pid);
	const before = pids.map(cpuSeconds);
	const node = process.cpuUsage();
	const result = await work();
	const used = process.cpuUsage(node);
	const perKey = (seconds: number) => ((seconds * 1e6) / result.checked).toFixed(1);
	const [source, target] = pids.map((pid, i) => cpuSeconds(pid) - before[i]!);
	const cpu = `CPU per key: node ${perKey((used.user + used.system) / 1e6)} µs, source ${perKey(source!)} µs, target ${perKey(target!)} µs`;
	return {...result, cpu};
}

const servers: TestServer[] = [];
try {
	for (let i = 0; i < 2; i++) servers.push(await startStandalone({args: ['--enable-debug-command', 'local']}));
	const [source, target] = servers.map((server) => server.client()) as [Redis, Redis];
	await Promise.all([source.call('DEBUG', 'POPULATE', String(keyCount), 'key', '64'), target.call('DEBUG', 'POPULATE', String(keyCount), 'key', '64')]);
	const version = (await source.info('server')).match(/redis_version:(\S+)/)?.[1];
	console.log(`${keyCount} keys per side, redis ${version}, ${cpus().length} × ${cpus()[0]?.model}, node ${process.version}`);

	const rates: number[] = [];
	for (let run = 0; run < runs; run++) {
		let discrepancies = 0;
		const result = await cpuPerKey(() =>
			fullCompare({sourceFor: async () => source, targetFor: async () => target}, {ttlToleranceMs: 1000, dbs: [0], onDiscrepancy: () => discrepancies++}),
		);
		rates.push(rate(result.checked, result.durationMs));
		console.log(`fullCompare run ${run + 1}: ${result.checked} keys in ${result.durationMs} ms = ${rates.at(-1)} keys/s, ${discrepancies} discrepancies; ${result.cpu}`);
	}
	const sorted = [...rates].sort((a, b) => a - b);
	console.log(`fullCompare: median ${sorted[Math.floor(sorted.length / 2)]} keys/s, best ${sorted.at(-1)} keys/s`);

	const naive = await cpuPerKey(() => naiveCompare(source, target, naiveLimit));
	console.log(`naive: ${naive.checked} keys in ${Math.round(naive.ms)} ms = ${rate(naive.checked, naive.ms)} keys/s, ${naive.differences} differences; ${naive.cpu}`);
} finally {
	await Promise.all(servers.map((server) => server.stop()));
}
