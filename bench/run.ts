/**
 * Runs the benchmarks one after the other, each with its defaults (results in BENCHMARKS.md).
 * Run: npm run bench [-- name…]   e.g. npm run bench -- backlog replay
 * Each script also runs alone: npx tsx bench/<name>.ts (see its header for its arguments).
 */
import {spawnSync} from 'node:child_process';

const benchmarks = ['parser', 'resp', 'capture', 'copy', 'replay', 'backlog', 'full-compare'];

const chosen = process.argv.slice(2);
for (const name of chosen) {
	if (!benchmarks.includes(name)) {
		process.stderr.write(`unknown benchmark ${name}; choose from ${benchmarks.join(', ')}\n`);
		process.exit(2);
	}
}
for (const name of chosen.length > 0 ? chosen : benchmarks) {
	process.stderr.write(`\n## ${name}\n`);
	const result = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.ts`], {stdio: 'inherit'});
	if (result.status !== 0) {
		process.stderr.write(`bench/${name}.ts exited with ${result.status ?? result.signal}\n`);
		process.exitCode = 1;
	}
}
