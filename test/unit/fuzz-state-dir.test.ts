/**
 * Every file keyferry reads back from a state dir, damaged: migration.json, cutover.json and progress.json
 * (empty, cut at every byte, random bytes, wrong-type JSON, a directory in place of the file),
 * journal segments and checkpoint.json (random bytes, cut short, overlapping or unreachable
 * segments, a directory for a segment), the reverse journal as `keyferry rollback` reads it, and the
 * discrepancy file. A loader either recovers the documented way or throws a KeyferryError whose
 * one-line message names the file; nothing else is ever thrown. Unreadable-permission cases are
 * left out: the tests may run as root, which reads anything. Fixed seeds, bounded rounds.
 */
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {Journal} from '../../source/capture/journal';
import {cutoverFileName, readCutoverPoint, writeCutoverPoint, type CutoverPoint} from '../../source/cutover/cutover-point';
import {JournalFiles} from '../../source/cutover/journal-files';
import {migrationFileName, readMigrationRecord, writeMigrationRecord, type MigrationRecord} from '../../source/cutover/migration-record';
import {Random} from '../../source/demo/random';
import {progressFileName, readProgress, writeProgress, type ProgressRecord} from '../../source/engine/progress-record';
import {describeError, ExitCode, KeyferryError} from '../../source/errors';
import {DiscrepancyLog} from '../../source/verify/discrepancy-log';

const root = mkdtempSync(join(tmpdir(), 'keyferry-fuzz-state-'));
let count = 0;
const freshDir = () => {
	const dir = join(root, String(count++));
	mkdirSync(dir);
	return dir;
};
afterAll(() => rmSync(root, {recursive: true, force: true}));

const migration: MigrationRecord = {
	version: 1,
	migrationId: 'm-fuzz',
	createdAt: 1_700_000_000_000,
	source: {host: '10.0.0.1', port: 6379, db: 0, tls: false, cluster: false},
	target: {host: '10.0.0.2', port: 6380, username: 'app', db: 0, tls: true, cluster: false},
	dbMap: [[3, 0]],
	clockSkewMs: -4,
};
const point: CutoverPoint = {
	version: 1,
	migrationId: 'm-fuzz',
	at: 1_700_000_000_500,
	pausedSourceWritesMs: null,
	barriers: [{master: '10.0.0.1:6379', barrier: 'keyferry:cutover:m-fuzz:0:1', journalOffset: 4096}],
	reverse: [{master: '10.0.0.2:6380', dir: 'reverse/10.0.0.2_6380', fromOffset: 0, cutoverOffset: 120, excludedClients: ['10.0.0.9:5000']}],
};
const progress: ProgressRecord = {
	version: 1,
	migrationId: 'm-fuzz',
	stage: 'cutover',
	updatedAt: 1_700_000_000_400,
	reverse: {master: '10.0.0.2:6380', dir: 'reverse/10.0.0.2_6380', fromOffset: 0, excludedClients: ['10.0.0.9:5000']},
};

interface StateFile {
	name: string;
	write(dir: string): Promise<void>;
	read(dir: string): Promise<unknown>;
	valid: unknown;
}
const files: StateFile[] = [
	{name: migrationFileName, write: (dir) => writeMigrationRecord(dir, migration), read: readMigrationRecord, valid: migration},
	{name: cutoverFileName, write: (dir) => writeCutoverPoint(dir, point), read: readCutoverPoint, valid: point},
	{name: progressFileName, write: (dir) => writeProgress(dir, progress), read: readProgress, valid: progress},
];

/** A loader's outcome: its value, or a KeyferryError naming `path` in one line with exit 2. Anything else fails the test. */
async function load<T>(run: () => Promise<T>, path: string, context: string): Promise<{value: T} | {message: string}> {
	try {
		return {value: await run()};
	} catch (error) {
		if (!(error instanceof KeyferryError)) throw new Error(`${context}: threw ${String(error)}, not a KeyferryError`);
		const {message} = describeError(error);
		expect(message, context).toContain(path);
		expect(message, context).not.toMatch(/[\r\n]/);
		return {message};
	}
}

function randomJson(rng: Random, depth = 0): unknown {
	switch (rng.int(depth > 2 ? 5 : 7)) {
		case 0:
			return null;
		case 1:
			return rng.chance(0.5);
		case 2:
			return rng.pick([0, -1, 1.5, 65536, 2 ** 60, 1e308, 6379]);
		case 3:
			return rng.pick(['', 'x', '10.0.0.1', '../../etc', '\u0000']);
		case 4:
			return {};
		case 5:
			return Array.from({length: rng.int(3)}, () => randomJson(rng, depth + 1));
		default:
			return Object.fromEntries(Array.from({length: rng.int(4)}, () => [rng.pick(['version', 'host', 'port', 'db', 'reverse', 'x']), randomJson(rng, depth + 1)]));
	}
}

/** Replaces one value somewhere in `value` with random JSON. */
function mutate(rng: Random, value: unknown): unknown {
	if (typeof value !== 'object' || value === null || rng.chance(0.2)) return randomJson(rng);
	const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : {...(value as Record<string, unknown>)};
	const keys = Object.keys(copy);
	if (keys.length === 0) return randomJson(rng);
	const key = rng.pick(keys);
	if (rng.chance(0.15)) delete (copy as Record<string, unknown>)[key];
	else (copy as Record<string, unknown>)[key] = mutate(rng, (copy as Record<string, unknown>)[key]);
	return copy;
}

describe.each(files)('$name', ({name, write, read, valid}) => {
	it('cut at every byte: only the whole file loads, every shorter one is refused naming the file', async () => {
		const dir = freshDir();
		await write(dir);
		const path = join(dir, name);
		const whole = readFileSync(path);
		for (let cut = 0; cut < whole.length; cut++) {
			writeFileSync(path, whole.subarray(0, cut));
			const outcome = await load(() => read(dir), path, `cut at ${cut}`);
			// Cut inside the final newline, the JSON is still whole.
			if ('value' in outcome) expect(whole.subarray(cut).toString().trim(), `cut at ${cut}`).toBe('');
			else expect(outcome.message, `cut at ${cut}`).toMatch(/is empty|is not valid JSON/);
		}
		writeFileSync(path, whole);
		expect(await read(dir)).toEqual(valid);
	});

	it('random bytes and flipped bytes: refused naming the file, or still a well-formed record', async () => {
		const dir = freshDir();
		await write(dir);
		const path = join(dir, name);
		const whole = readFileSync(path);
		const rng = new Random(201);
		for (let round = 0; round < 300; round++) {
			const bytes = round % 2 === 0 ? Buffer.from(Array.from({length: rng.int(200)}, () => rng.int(256))) : Buffer.from(whole);
			if (round % 2 === 1) for (let n = rng.range(1, 3); n > 0; n--) bytes[rng.int(bytes.length)] = rng.int(256);
			writeFileSync(path, bytes);
			const outcome = await load(() => read(dir), path, `seed 201 round ${round}`);
			if ('value' in outcome) expect(outcome.value, `seed 201 round ${round}`).toMatchObject({version: 1});
		}
	});

	it('wrong-type JSON anywhere: refused naming the file, or a record whose every field has its type', async () => {
		const dir = freshDir();
		const path = join(dir, name);
		for (const seed of [211, 212]) {
			const rng = new Random(seed);
			for (let round = 0; round < 500; round++) {
				const raw = round < 5 ? [null, [], 42, '"text"', true][round] : mutate(rng, valid);
				writeFileSync(path, JSON.stringify(raw) ?? 'null');
				const context = `seed ${seed} round ${round}: ${JSON.stringify(raw)}`;
				const outcome = await load(() => read(dir), path, context);
				if ('message' in outcome) {
					expect(outcome.message, context).toMatch(/keyferry wrote/);
					continue;
				}
				const value = outcome.value as Record<string, unknown>;
				expect(value['version'], context).toBe(1);
				expect(typeof value['migrationId'], context).toBe('string');
				for (const side of name === migrationFileName ? [value['source'], value['target']] : []) {
					const endpoint = side as {host: unknown; port: number; db: number};
					expect(typeof endpoint.host === 'string' && endpoint.host !== '', context).toBe(true);
					expect(Number.isInteger(endpoint.port) && endpoint.port >= 1 && endpoint.port <= 65535, context).toBe(true);
					expect(Number.isSafeInteger(endpoint.db) && endpoint.db >= 0, context).toBe(true);
				}
			}
		}
	});

	// Each of these once read as "no file" or threw a raw error.
	it.each([
		['JSON null', 'null', /keyferry wrote/],
		['only whitespace', ' \n', /is empty/],
		['a port out of range', 'port', /keyferry wrote/],
	])('refuses %s', async (what, text, message) => {
		const dir = freshDir();
		const path = join(dir, name);
		if (text === 'port') {
			if (name !== migrationFileName) return;
			writeFileSync(path, JSON.stringify({...migration, source: {...migration.source, port: 70000}}));
		} else {
			writeFileSync(path, text);
		}
		const outcome = await load(() => read(dir), path, what);
		expect('message' in outcome && outcome.message).toMatch(message);
	});

	it('a directory in place of the file, or a state dir that is a file: exit 2, naming the file', async () => {
		const dir = freshDir();
		mkdirSync(join(dir, name));
		const outcome = await load(() => read(dir), join(dir, name), 'directory');
		expect('message' in outcome && outcome.message).toContain('it is a directory');
		const file = join(freshDir(), 'state');
		writeFileSync(file, 'not a directory');
		const notDir = await load(() => read(file), join(file, name), 'state dir is a file');
		expect('message' in notDir && notDir.message).toContain('its directory is a file');
		await expect(read(file)).rejects.toMatchObject({code: 'state-file', exitCode: ExitCode.usage});
	});

	it('is absent (null) when the state dir or the file does not exist', async () => {
		expect(await read(join(freshDir(), 'missing'))).toBeNull();
		expect(await read(freshDir())).toBeNull();
	});
});

const line = (n: number) => `+1700000000.${String(n).padStart(6, '0')} [0 127.0.0.1:5000] "SET" "k${n}" "v"\r\n`;
const segmentName = (start: number) => `${String(start).padStart(20, '0')}.seg`;

/** Opens the journal and reads it to the end through both readers; any error must be a KeyferryError naming the journal or the file. */
async function openAndRead(dir: string, context: string, expectInMessage: string): Promise<{entries: string[]; fromFiles: string[]} | {message: string}> {
	const outcome = await load(
		async () => {
			const journal = await Journal.open(dir, {maxMemoryWindow: 1 << 20});
			const reader = journal.reader(journal.firstOffset);
			await journal.close();
			const entries: string[] = [];
			for (let batch = await reader.read(1000); batch !== null; batch = await reader.read(1000)) entries.push(...batch.map((record) => record.entry.kind));
			return entries;
		},
		expectInMessage,
		context,
	);
	if ('message' in outcome) return outcome;
	const reading = new JournalFiles(dir, 0);
	const fromFiles: string[] = [];
	const files = await load(() => reading.readNew((record) => fromFiles.push(record.entry.kind)), dir, `${context} (segment files)`);
	if ('message' in files) return files;
	return {entries: outcome.value, fromFiles};
}

describe('journal segments and checkpoint.json', () => {
	it('random bytes, random cuts and random lines in segments: always opens and reads to the end', async () => {
		const rng = new Random(221);
		for (let round = 0; round < 40; round++) {
			const dir = freshDir();
			let start = 0;
			for (let n = rng.range(1, 4); n > 0; n--) {
				const parts: string[] = [];
				for (let k = rng.range(0, 20); k > 0; k--) parts.push(line(k));
				let body = Buffer.concat([Buffer.from(parts.join(''), 'latin1'), Buffer.from(Array.from({length: rng.int(300)}, () => rng.int(256)))]);
				body = body.subarray(0, rng.int(body.length + 1));
				writeFileSync(join(dir, segmentName(start)), body);
				// The next segment starts where this one ends, or a little later (a crash's hole).
				start += body.length + (rng.chance(0.3) ? rng.int(500) : 0);
			}
			if (rng.chance(0.5)) writeFileSync(join(dir, 'checkpoint.json'), rng.pick(['', '{"applied":', '[]', '{"applied":-5}', '{"applied":1e30}', '{"applied":"7"}', 'null']));
			const context = `seed 221 round ${round}`;
			const outcome = await openAndRead(dir, context, dir);
			expect('entries' in outcome, `${context}: ${JSON.stringify(outcome)}`).toBe(true);
			if ('entries' in outcome) for (const kind of outcome.entries) expect(['command', 'malformed', 'gap'], context).toContain(kind);
		}
	});

	it('recovers a segment cut short by a crash: zero-filled up to the next one, read back as malformed lines, never merged', async () => {
		const dir = freshDir();
		const first = Buffer.from(line(1) + line(2), 'latin1');
		writeFileSync(join(dir, segmentName(0)), first.subarray(0, first.length - 10));
		writeFileSync(join(dir, segmentName(first.length)), line(3));
		const outcome = await openAndRead(dir, 'crash hole', dir);
		expect(outcome).toEqual({entries: ['command', 'malformed', 'command'], fromFiles: ['command', 'malformed', 'command']});
		expect(statSync(join(dir, segmentName(0))).size).toBe(first.length);
	});

	it('treats an unreadable checkpoint.json as none: nothing is deleted until the next checkpoint rewrites it', async () => {
		for (const checkpoint of ['{"applied":', 'garbage', '{"applied":"12"}']) {
			const dir = freshDir();
			writeFileSync(join(dir, segmentName(0)), line(1));
			writeFileSync(join(dir, 'checkpoint.json'), checkpoint);
			const journal = await Journal.open(dir, {maxMemoryWindow: 1 << 20});
			expect(journal.checkpointed, checkpoint).toBe(0);
			await journal.checkpoint(journal.end);
			await journal.close();
			expect(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8'))).toMatchObject({applied: line(1).length});
		}
	});

	// Each of these once opened silently (or with a message naming no file) or created a huge file.
	it.each([
		['a directory named like a segment', (dir: string) => mkdirSync(join(dir, segmentName(0))), 'is not a file', segmentName(0)],
		[
			'overlapping segments',
			(dir: string) => {
				writeFileSync(join(dir, segmentName(0)), line(1) + line(2));
				writeFileSync(join(dir, segmentName(10)), line(3));
			},
			'runs past the start of',
			segmentName(0),
		],
		[
			'a hole no crash leaves',
			(dir: string) => {
				writeFileSync(join(dir, segmentName(0)), line(1));
				writeFileSync(join(dir, segmentName(10 ** 15)), line(2));
			},
			'more than a crash leaves',
			segmentName(0),
		],
		['an offset past any journal', (dir: string) => writeFileSync(join(dir, '99999999999999999999.seg'), line(1)), 'has an offset no journal reaches', '99999999999999999999.seg'],
	])('refuses %s, naming the file', async (_what, setup, message, file) => {
		const dir = freshDir();
		setup(dir);
		const outcome = await openAndRead(dir, String(_what), join(dir, file));
		expect('message' in outcome && outcome.message).toContain(message);
		await expect(Journal.open(dir, {maxMemoryWindow: 1 << 20})).rejects.toMatchObject({code: 'state-file', exitCode: ExitCode.usage});
	});

	it('the segment-file reader names a segment it cannot read', async () => {
		const dir = freshDir();
		mkdirSync(join(dir, segmentName(0)));
		const reading = new JournalFiles(dir, 0);
		const outcome = await load(() => reading.readNew(() => {}), join(dir, segmentName(0)), 'segment directory');
		expect('message' in outcome && outcome.message).toContain('cannot read journal segment');
	});

	it('a journal directory that is a file: a KeyferryError naming it', async () => {
		const file = join(freshDir(), 'journal');
		writeFileSync(file, 'x');
		const outcome = await load(() => Journal.open(file, {maxMemoryWindow: 1 << 20}), file, 'journal is a file');
		expect('message' in outcome).toBe(true);
	});
});

describe('discrepancies.jsonl', () => {
	it('a directory in its place, or a state dir that is a file: a KeyferryError naming it', () => {
		const dir = freshDir();
		mkdirSync(join(dir, 'discrepancies.jsonl'));
		expect(() => DiscrepancyLog.open(dir)).toThrow(KeyferryError);
		expect(() => DiscrepancyLog.open(dir)).toThrow(join(dir, 'discrepancies.jsonl'));
		const file = join(freshDir(), 'state');
		writeFileSync(file, 'x');
		expect(() => DiscrepancyLog.open(file)).toThrow(/cannot write the discrepancy file in .*state \((ENOTDIR|EEXIST)\)/);
	});
});
