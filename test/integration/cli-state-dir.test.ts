/**
 * `keyferry rollback --state-dir D --preview` on damaged state dirs, through the built CLI: exit 2,
 * one error line naming the file, no stack trace, nothing connected to. The state files are read
 * before any server is reached, so no server is needed here.
 */
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {bundlePath, runCli} from '../helpers/cli';

let root: string;
beforeAll(() => {
	if (!existsSync(bundlePath)) throw new Error('dist/keyferry.js is missing: run `npm run build` (npm test does it)');
	root = mkdtempSync(join(tmpdir(), 'keyferry-cli-state-'));
});
afterAll(() => rmSync(root, {recursive: true, force: true}));

// Port 1 on loopback: nothing listens, and nothing must even be tried.
const migration = JSON.stringify({
	version: 1,
	migrationId: 'm-cli',
	createdAt: 1,
	source: {host: '127.0.0.1', port: 1, db: 0, tls: false, cluster: false},
	target: {host: '127.0.0.1', port: 1, db: 0, tls: false, cluster: false},
	dbMap: [],
	clockSkewMs: 0,
});
const cutover = JSON.stringify({
	version: 1,
	migrationId: 'm-cli',
	at: 1,
	pausedSourceWritesMs: null,
	barriers: [],
	reverse: [{master: '127.0.0.1:1', dir: 'reverse/127.0.0.1_1', fromOffset: 0, cutoverOffset: 0, excludedClients: []}],
});

type Setup = (dir: string) => void;
const cases: Array<[string, Setup, string, RegExp]> = [
	['an empty migration.json', (dir) => writeFileSync(join(dir, 'migration.json'), ''), 'migration.json', /is empty/],
	['a migration.json cut short', (dir) => writeFileSync(join(dir, 'migration.json'), migration.slice(0, 40)), 'migration.json', /is not valid JSON/],
	['random bytes for migration.json', (dir) => writeFileSync(join(dir, 'migration.json'), Buffer.from([0, 255, 10, 123, 34, 7])), 'migration.json', /is not valid JSON/],
	['a migration.json of the wrong shape', (dir) => writeFileSync(join(dir, 'migration.json'), '{"version":1,"source":"x"}'), 'migration.json', /not a migration record/],
	['a migration.json holding null', (dir) => writeFileSync(join(dir, 'migration.json'), 'null'), 'migration.json', /not a migration record/],
	['a directory for migration.json', (dir) => mkdirSync(join(dir, 'migration.json')), 'migration.json', /is a directory/],
	[
		'a cutover.json cut short',
		(dir) => {
			writeFileSync(join(dir, 'migration.json'), migration);
			writeFileSync(join(dir, 'cutover.json'), cutover.slice(0, cutover.length - 3));
		},
		'cutover.json',
		/is not valid JSON/,
	],
	[
		'a cutover.json with a negative offset',
		(dir) => {
			writeFileSync(join(dir, 'migration.json'), migration);
			writeFileSync(join(dir, 'cutover.json'), cutover.replace('"fromOffset":0', '"fromOffset":-1'));
		},
		'cutover.json',
		/not a cutover point/,
	],
];

describe('rollback --preview on a damaged state dir', () => {
	it.each(cases)('%s: exit 2, one line naming the file, no stack trace', async (_what, setup, file, message) => {
		const dir = mkdtempSync(join(root, 'state-'));
		setup(dir);
		const result = await runCli(['rollback', '--state-dir', dir, '--preview']);
		expect(result.code, result.stderr).toBe(2);
		expect(result.stderr).not.toMatch(/\n\s+at /);
		const errors = result.stderr.split('\n').filter((line) => line.startsWith('keyferry: error: '));
		expect(errors, result.stderr).toHaveLength(1);
		expect(errors[0]).toContain(join(dir, file));
		expect(errors[0]).toMatch(message);
		expect(result.events.find((event) => event.type === 'error')).toMatchObject({code: 'state-file'});
		expect(result.events.at(-1)).toMatchObject({type: 'summary', exitCode: 2});
	});

	it('a state dir that is a file: exit 2, naming it', async () => {
		const file = join(root, 'not-a-dir');
		writeFileSync(file, 'x');
		const result = await runCli(['rollback', '--state-dir', file, '--preview']);
		expect(result.code, result.stderr).toBe(2);
		expect(result.stderr).not.toMatch(/\n\s+at /);
		expect(result.stderr).toContain(`cannot read ${join(file, 'migration.json')}: its directory is a file`);
	});
});
