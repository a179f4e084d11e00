/**
 * The pieces of `migrate --resume`: progress.json (never moves back, keeps the first reverse
 * journal start), which state dir and stage a command resumes, the state-dir lock, the stage
 * gate of a resumed run, and clients blocked across a capture gap.
 */
import {spawn} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {hostname, tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {writeCutoverPoint} from '../../source/cutover/cutover-point';
import {writeMigrationRecord, type MigrationRecord} from '../../source/cutover/migration-record';
import {parseProgress, ProgressWriter, readProgress, writeProgress, type ProgressRecord} from '../../source/engine/progress-record';
import {endpointMismatch, findResumePoint, resumedDbMap} from '../../source/engine/resume-point';
import {StageGate} from '../../source/engine/stage-gate';
import {lockStateDir} from '../../source/engine/state-lock';
import {KeyferryError, UsageError} from '../../source/errors';
import type {NodeEndpoint} from '../../source/redis/endpoint';
import {BlockedClients} from '../../source/replay/blocked-clients';

const dirs: string[] = [];
const tempDir = () => {
	const dir = mkdtempSync(join(tmpdir(), 'keyferry-resume-unit-'));
	dirs.push(dir);
	return dir;
};
afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

const source: NodeEndpoint = {host: '10.0.0.1', port: 6379, db: 0};
const target: NodeEndpoint = {host: '10.0.0.2', port: 6380, db: 0};
const migration: MigrationRecord = {
	version: 1,
	migrationId: 'kf-1',
	createdAt: 1_700_000_000_000,
	source: {host: '10.0.0.1', port: 6379, db: 0, tls: false, cluster: false},
	target: {host: '10.0.0.2', port: 6380, db: 0, tls: false, cluster: false},
	dbMap: [],
	clockSkewMs: 0,
};
const progress: ProgressRecord = {version: 1, migrationId: 'kf-1', stage: 'sync', updatedAt: 1_700_000_000_100, reverse: null};
const reverse = {master: '10.0.0.2:6380', dir: 'reverse/10.0.0.2_6380', fromOffset: 42, excludedClients: ['10.0.0.9:1']};

describe('progress.json', () => {
	it.each<[string, unknown, boolean]>([
		['a record', progress, true],
		['with a reverse start', {...progress, stage: 'cutover', reverse}, true],
		['rollback', {...progress, stage: 'rollback'}, true],
		['preflight is not a stage to resume', {...progress, stage: 'preflight'}, false],
		['an unknown stage', {...progress, stage: 'warp'}, false],
		['another version', {...progress, version: 2}, false],
		['no migration id', {...progress, migrationId: ''}, false],
		['a reverse dir outside the state dir', {...progress, reverse: {...reverse, dir: '../../etc'}}, false],
		['an absolute reverse dir', {...progress, reverse: {...reverse, dir: '/etc'}}, false],
		['a negative offset', {...progress, reverse: {...reverse, fromOffset: -1}}, false],
		['excluded clients of the wrong type', {...progress, reverse: {...reverse, excludedClients: [1]}}, false],
	])('%s', (_name, raw, valid) => {
		expect(parseProgress(raw) !== null).toBe(valid);
	});

	it('only moves forward and keeps the first cutover attempt\'s reverse journal start', async () => {
		const dir = tempDir();
		const errors: string[] = [];
		const writer = new ProgressWriter(dir, 'kf-1', {...progress, stage: 'verify'}, (message) => errors.push(message));
		await writer.enter('copy');
		await writer.enter('sync');
		expect((await readProgress(dir))?.stage ?? 'not written').toBe('not written');
		await writer.enterCutover(reverse);
		await writer.enterCutover({...reverse, fromOffset: 999});
		expect(await readProgress(dir)).toMatchObject({stage: 'cutover', reverse: {fromOffset: 42}});
		await writer.enter('done');
		await writer.enterCutover(reverse);
		expect((await readProgress(dir))?.stage).toBe('done');
		expect(errors).toEqual([]);
	});

	it('reports a write that fails instead of throwing', async () => {
		const dir = join(tempDir(), 'missing', 'dir');
		const errors: string[] = [];
		await new ProgressWriter(dir, 'kf-1', null, (message) => errors.push(message)).enter('capture');
		expect(errors).toHaveLength(1);
		expect(errors[0]).toMatch(/cannot record progress in .*progress\.json/);
	});
});

describe('the resume point', () => {
	const options = (overrides: Partial<{resume: boolean; stateDir: string | null; source: NodeEndpoint; target: NodeEndpoint}> = {}) => ({
		resume: false,
		stateDir: null,
		source,
		target,
		...overrides,
	});

	it('is none for a new migration, and a usage error for --resume with nothing to resume', async () => {
		const dir = tempDir();
		expect(await findResumePoint(options({stateDir: dir}), dir)).toBeNull();
		expect(await findResumePoint(options(), dir)).toBeNull();
		await expect(findResumePoint(options({resume: true, stateDir: dir}), dir)).rejects.toThrow(/holds no migration to resume/);
		await expect(findResumePoint(options({resume: true}), dir)).rejects.toThrow(/no migration of 10\.0\.0\.1:6379 → 10\.0\.0\.2:6380 in \.keyferry\//);
	});

	it('continues a state dir that holds a migration, at its recorded stage; done once the cutover point is recorded', async () => {
		const dir = tempDir();
		await writeMigrationRecord(dir, migration);
		expect((await findResumePoint(options({stateDir: dir}), dir))?.stage).toBe('capture');
		await writeProgress(dir, progress);
		expect((await findResumePoint(options({stateDir: dir}), dir))?.stage).toBe('sync');
		await writeCutoverPoint(dir, {version: 1, migrationId: 'kf-1', at: 1, pausedSourceWritesMs: null, barriers: [], reverse: []});
		expect((await findResumePoint(options({stateDir: dir}), dir))?.stage).toBe('done');
		await writeProgress(dir, {...progress, stage: 'rollback'});
		expect((await findResumePoint(options({stateDir: dir}), dir))?.stage).toBe('rollback');
	});

	it('finds the one migration of these servers under ./.keyferry, and refuses when there are several', async () => {
		const cwd = tempDir();
		for (const [name, record] of [
			['kf-a', migration],
			['kf-b', {...migration, migrationId: 'kf-b', target: {...migration.target, port: 7000}}],
		] as const) {
			mkdirSync(join(cwd, '.keyferry', name), {recursive: true});
			await writeMigrationRecord(join(cwd, '.keyferry', name), record);
		}
		mkdirSync(join(cwd, '.keyferry', 'empty'));
		writeFileSync(join(cwd, '.keyferry', 'not-a-dir'), 'x');
		expect((await findResumePoint(options({resume: true}), cwd))?.stateDir).toBe(join(cwd, '.keyferry', 'kf-a'));
		mkdirSync(join(cwd, '.keyferry', 'kf-c'));
		await writeMigrationRecord(join(cwd, '.keyferry', 'kf-c'), {...migration, migrationId: 'kf-c'});
		await expect(findResumePoint(options({resume: true}), cwd)).rejects.toThrow(/2 migrations of .* \(\.keyferry\/kf-a, \.keyferry\/kf-c\); give --state-dir/);
	});

	it('refuses other servers than the recorded ones, and a progress record of another migration', async () => {
		const dir = tempDir();
		await writeMigrationRecord(dir, migration);
		await expect(findResumePoint(options({stateDir: dir, target: {...target, port: 1}}), dir)).rejects.toThrow(UsageError);
		await writeProgress(dir, {...progress, migrationId: 'kf-other'});
		await expect(findResumePoint(options({stateDir: dir}), dir)).rejects.toThrow(/belongs to migration kf-other/);
	});

	it.each<[string, NodeEndpoint, NodeEndpoint, boolean]>([
		['the same servers', source, target, true],
		['another source port', {...source, port: 6000}, target, false],
		['another target host', source, {...target, host: '10.0.0.3'}, false],
		['another source db', {...source, db: 2}, target, false],
	])('endpoint match: %s', (_name, given, givenTarget, same) => {
		const mismatch = endpointMismatch(migration, {source: given, target: givenTarget});
		expect(mismatch === null).toBe(same);
		if (mismatch) expect(mismatch).toMatch(/^the state dir holds migration kf-1 of 10\.0\.0\.1:6379 → 10\.0\.0\.2:6380, not /);
	});

	it.each<[string, Array<[number, number]>, Map<number, number> | null, Map<number, number> | null | 'refused']>([
		['none recorded, none given', [], null, null],
		['recorded, left out', [[3, 0]], null, new Map([[3, 0]])],
		['recorded, given the same', [[3, 0]], new Map([[3, 0]]), new Map([[3, 0]])],
		['recorded, given another', [[3, 0]], new Map([[3, 1]]), 'refused'],
		['none recorded, given one', [], new Map([[3, 0]]), 'refused'],
	])('--db-map: %s', (_name, recorded, given, expected) => {
		const run = () => resumedDbMap({...migration, dbMap: recorded}, given);
		if (expected === 'refused') expect(run).toThrow(/differs from the migration's recorded --db-map/);
		else expect(run()).toEqual(expected);
	});
});

describe('the state-dir lock', () => {
	it('is taken, refused to a second holder while its process lives, and released', () => {
		const dir = tempDir();
		const lock = lockStateDir(dir);
		expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8'))).toEqual({pid: process.pid, host: hostname()});
		lock.release();
		expect(existsSync(join(dir, 'lock'))).toBe(false);
	});

	it('refuses while another live keyferry holds it, takes over from a dead one or a damaged file', async () => {
		const dir = tempDir();
		const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {stdio: 'ignore'});
		try {
			writeFileSync(join(dir, 'lock'), JSON.stringify({pid: child.pid, host: hostname()}));
			expect(() => lockStateDir(dir)).toThrow(new RegExp(`another keyferry \\(pid ${child.pid}\\) is running on`));
			writeFileSync(join(dir, 'lock'), JSON.stringify({pid: child.pid, host: 'elsewhere'}));
			expect(() => lockStateDir(dir)).toThrow(/locked by keyferry pid \d+ on elsewhere/);
		} finally {
			child.kill('SIGKILL');
			await new Promise((resolve) => child.once('exit', resolve));
		}
		writeFileSync(join(dir, 'lock'), JSON.stringify({pid: child.pid, host: hostname()}));
		lockStateDir(dir).release();
		writeFileSync(join(dir, 'lock'), '{"pid":');
		const lock = lockStateDir(dir);
		expect(JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')).pid).toBe(process.pid);
		lock.release();
	});

	it('is a usage error when the state dir cannot hold it', () => {
		const file = join(tempDir(), 'file');
		writeFileSync(file, '');
		expect(() => lockStateDir(file)).toThrow(KeyferryError);
	});
});

describe('the stage gate of a resumed run', () => {
	it('passes at once into every stage the earlier run entered, then waits as usual', async () => {
		const gate = new StageGate(false, 'sync');
		await gate.wait('capture');
		await gate.wait('copy');
		await gate.wait('sync');
		let verified = false;
		const verify = gate.wait('verify').then(() => (verified = true));
		await new Promise((resolve) => setTimeout(resolve, 10));
		expect(verified).toBe(false);
		expect(gate.advance()).toBe(true);
		await verify;
	});

	it('a run resumed in its cutover passes into cutover without an operator, but never into done', async () => {
		const gate = new StageGate(true, 'cutover');
		await gate.wait('cutover', true);
		let done = false;
		void gate.wait('done', true).then(() => (done = true));
		await new Promise((resolve) => setTimeout(resolve, 10));
		expect(done).toBe(false);
	});
});

describe('clients blocked across a capture gap', () => {
	const b = (text: string) => Buffer.from(text);

	it('every write is suspect from the gap until the source\'s list of blocked clients is placed', () => {
		const blocked = new BlockedClients();
		blocked.block('known', {db: 0, keys: [b('q')], deadlineMs: null});
		blocked.suspect();
		expect(blocked.unknownCount).toBe(1);
		expect(blocked.affected(5, [b('any')])).toEqual([{db: 5, keys: [], deadlineMs: null}]);
		blocked.settle([
			{client: 'known', db: 0, command: 'blpop'},
			{client: 'unseen', db: 2, command: 'blpop'},
		]);
		expect(blocked.unknownCount).toBe(1);
		expect(blocked.affected(5, [b('any')])).toEqual([]);
		expect(blocked.affected(2, [b('any')])).toEqual([{db: 2, keys: [], deadlineMs: null}]);
		expect(blocked.affected(0, [b('q')]).map((watch) => watch.keys.map(String))).toEqual([['q']]);
	});

	it('an unseen waiter is forgotten once it is seen issuing a command, or is no longer listed', () => {
		const blocked = new BlockedClients();
		blocked.suspect();
		blocked.settle([
			{client: 'a', db: 0, command: 'blpop'},
			{client: 'b', db: 1, command: 'bzpopmin'},
		]);
		blocked.release('a');
		expect(blocked.affected(0, [b('k')])).toEqual([]);
		blocked.settle([]);
		expect(blocked.unknownCount).toBe(0);
		expect(blocked.size).toBe(0);
		expect(blocked.takeRescans()).toEqual([]);
	});

	it('an unseen BLMOVE or BRPOPLPUSH, once served, has its db read again: where it pushed is unknown', () => {
		const blocked = new BlockedClients();
		blocked.suspect();
		blocked.settle([
			{client: 'mover', db: 2, command: 'blmove'},
			{client: 'legacy', db: 3, command: 'BRPOPLPUSH'},
			{client: 'popper', db: 4, command: 'blpop'},
		]);
		expect(blocked.takeRescans()).toEqual([]);
		blocked.release('mover');
		blocked.release('popper');
		expect(blocked.takeRescans()).toEqual([2]);
		expect(blocked.takeRescans()).toEqual([]);
		// Listed again without it: served (or gone) meanwhile.
		blocked.settle([]);
		expect(blocked.takeRescans()).toEqual([3]);
	});
});
