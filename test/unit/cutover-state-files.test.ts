import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {parseCutoverPoint, readCutoverPoint, writeCutoverPoint, type CutoverPoint} from '../../source/cutover/cutover-point';
import {endpointFromRecord, endpointRecord, readMigrationRecord, writeMigrationRecord, type MigrationRecord} from '../../source/cutover/migration-record';
import {checklistDetail, sourceQuiet} from '../../source/cutover/source-quiet';
import {KeyferryError} from '../../source/errors';

const dirs: string[] = [];
const tempDir = () => {
	const dir = mkdtempSync(join(tmpdir(), 'keyferry-cutover-unit-'));
	dirs.push(dir);
	return dir;
};
afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
});

const point: CutoverPoint = {
	version: 1,
	migrationId: 'm-1',
	at: 1_700_000_000_000,
	pausedSourceWritesMs: 2000,
	barriers: [{master: '10.0.0.1:6379', barrier: 'keyferry:cutover:m-1:0:2', journalOffset: 123_456}],
	reverse: [{master: '10.0.0.2:6379', dir: 'reverse/10.0.0.2_6379', fromOffset: 10, cutoverOffset: 99, excludedClients: ['10.0.0.9:5000']}],
};

describe('cutover.json', () => {
	it('round-trips, written atomically (no temporary file left, private mode)', async () => {
		const dir = tempDir();
		await writeCutoverPoint(dir, point);
		expect(await readCutoverPoint(dir)).toEqual(point);
		expect(readdirSync(dir)).toEqual(['cutover.json']);
		expect(statSync(join(dir, 'cutover.json')).mode & 0o777).toBe(0o600);
		await writeCutoverPoint(dir, {...point, at: point.at + 1});
		expect((await readCutoverPoint(dir))?.at).toBe(point.at + 1);
	});

	it('is null when absent and an error when damaged', async () => {
		const dir = tempDir();
		expect(await readCutoverPoint(dir)).toBeNull();
		writeFileSync(join(dir, 'cutover.json'), '{"version": 1, "migr');
		await expect(readCutoverPoint(dir)).rejects.toThrow(KeyferryError);
	});

	it.each([
		['another version', {...point, version: 2}],
		['a negative offset', {...point, barriers: [{...point.barriers[0], journalOffset: -1}]}],
		['a cutover offset before the start', {...point, reverse: [{...point.reverse[0], cutoverOffset: 1}]}],
		['excluded clients that are not strings', {...point, reverse: [{...point.reverse[0], excludedClients: [1]}]}],
		['no barriers', {...point, barriers: undefined}],
	])('rejects %s', (_name, raw) => expect(parseCutoverPoint(raw)).toBeNull());
});

describe('migration.json', () => {
	it('keeps where the servers are, never their passwords', async () => {
		const dir = tempDir();
		const source = {host: 'old.internal', port: 6379, db: 0, username: 'app', password: 'hunter2-secret'};
		const target = {host: 'new.internal', port: 6380, db: 0, password: 'other-secret', tls: {rejectUnauthorized: true}};
		const record: MigrationRecord = {
			version: 1,
			migrationId: 'm-1',
			createdAt: 1,
			source: endpointRecord(source, false),
			target: endpointRecord(target, false),
			dbMap: [[3, 0]],
			clockSkewMs: -12,
		};
		await writeMigrationRecord(dir, record);
		const text = readFileSync(join(dir, 'migration.json'), 'utf8');
		expect(text).not.toContain('secret');
		expect(statSync(join(dir, 'migration.json')).mode & 0o777).toBe(0o600);
		const read = await readMigrationRecord(dir);
		expect(read).toEqual(record);
		expect(endpointFromRecord(read!.source, 'given-again', {ca: undefined, insecure: false})).toEqual({host: 'old.internal', port: 6379, db: 0, username: 'app', password: 'given-again'});
		expect(endpointFromRecord(read!.target, undefined, {ca: undefined, insecure: true})).toEqual({host: 'new.internal', port: 6380, db: 0, tls: {rejectUnauthorized: false}});
	});
});

describe('the cutover checklist', () => {
	const at = (lastWriteMs: number | null, lag = 0) => ({lastWriteMs, nowMs: 10_000, quietMs: 5000, lag});

	it.each([
		[at(null), true],
		[at(5000), true],
		[at(5001), false],
		[at(null, 100), false],
	])('%j quiet: %s', (input, quiet) => expect(sourceQuiet(input)).toBe(quiet));

	it('says what it waits for, then what advancing does', () => {
		expect(checklistDetail(at(8000), false)).toBe('checklist: switch the application to the target · stop writes to the source · last source write 2.0 s ago; ready after 5.0 s without one');
		expect(checklistDetail(at(null, 500), false)).toContain('replay catching up (500 lines behind)');
		expect(checklistDetail(at(1000), true)).toBe('no application write on the source for 5.0 s (last source write 9.0 s ago) · Enter drains to a barrier and cuts over');
	});
});
