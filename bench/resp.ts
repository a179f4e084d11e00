/**
 * RESP client benchmark: 1M pipelined `PTTL k` (between 5k and 10k in flight) against a fresh
 * redis-server, through ioredis `callBuffer` and through keyferry's RespConnection (`send`, which
 * returns a promise, and `write`, which takes a callback). Reports commands/s and the node
 * process's CPU per command (user + system); the median of `--runs` runs per client.
 * Run: npx tsx bench/resp.ts [--commands 1000000] [--runs 3]
 */
import {parseArgs} from 'node:util';
import Redis from 'ioredis';
import {RespConnection} from '../source/redis/resp-connection';
import {startStandalone} from '../test/helpers/redis';

const {values} = parseArgs({options: {commands: {type: 'string', default: '1000000'}, runs: {type: 'string', default: '3'}}});
const commands = Number(values.commands);
const runs = Number(values.runs);
const window = 10_000;

/** Issues `commands` commands, topping the window up whenever half of it has been answered. */
function drive(issue: (done: () => void) => void): Promise<void> {
	return new Promise((resolve) => {
		let sent = 0;
		let answered = 0;
		const done = () => {
			answered++;
			if (answered === commands) resolve();
			else if (sent - answered <= window / 2) fill();
		};
		const fill = () => {
			while (sent < commands && sent - answered < window) {
				sent++;
				issue(done);
			}
		};
		fill();
	});
}

interface Result {
	rate: number;
	cpuMicros: number;
}

async function measure(issue: (done: () => void) => void): Promise<Result> {
	const cpu = process.cpuUsage();
	const started = performance.now();
	await drive(issue);
	const seconds = (performance.now() - started) / 1000;
	const used = process.cpuUsage(cpu);
	return {rate: Math.round(commands / seconds), cpuMicros: Math.round(((used.user + used.system) / commands) * 100) / 100};
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;

async function main(): Promise<void> {
	const server = await startStandalone();
	const ioredis = new Redis({host: '127.0.0.1', port: server.port});
	const resp = await RespConnection.open({host: '127.0.0.1', port: server.port, db: 0}, 'source');
	const key = Buffer.from('k');
	try {
		await ioredis.set(key, 'v', 'PX', 3_600_000);
		const clients: Array<[string, (done: () => void) => void]> = [
			['ioredis 5 `callBuffer`', (done) => void ioredis.callBuffer('PTTL', key).then(done)],
			['RespConnection `send` (promise)', (done) => void resp.send(['PTTL', key]).then(done)],
			['RespConnection `write` (callback)', (done) => resp.write(['PTTL', key], done)],
		];
		const results = new Map<string, Result[]>(clients.map(([name]) => [name, []]));
		for (let run = 0; run < runs; run++) {
			for (const [name, issue] of clients) {
				const result = await measure(issue);
				results.get(name)!.push(result);
				process.stderr.write(`run ${run + 1} ${name}: ${result.rate} commands/s, ${result.cpuMicros} µs CPU/command\n`);
			}
		}
		process.stdout.write(`| client | commands/s | CPU µs/command |\n|---|---:|---:|\n`);
		for (const [name, list] of results) {
			process.stdout.write(`| ${name} | ${median(list.map((one) => one.rate))} | ${median(list.map((one) => one.cpuMicros))} |\n`);
		}
	} finally {
		ioredis.disconnect();
		resp.close();
		await server.stop();
	}
}

await main();
