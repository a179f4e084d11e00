/**
 * Proof that capture is byte-exact: random binary commands go through a real redis-server, its
 * MONITOR feed is captured into a journal, and every parsed argument must equal what was sent.
 */
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Redis from 'ioredis';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CaptureStream} from '../../source/capture/capture-stream';
import {Journal, type JournalReader, type JournalRecord} from '../../source/capture/journal';
import {MonitorParser, type MonitorCommand, type MonitorEntry} from '../../source/capture/monitor-parser';
import {Counters} from '../../source/engine/counters';
import {startStandalone, type TestServer} from '../helpers/redis';
import {Random} from '../../source/demo/random';

function random(seed: number): () => number {
	const generator = new Random(seed);
	return () => generator.next();
}

interface Sent {
	db: number;
	client: string;
	args: Buffer[];
}

/** Reads records until one has `marker` as its last argument (bounded in time). */
async function readUntilMarker(reader: JournalReader, marker: Buffer, into: JournalRecord[]): Promise<void> {
	const deadline = Date.now() + 30_000;
	while (Date.now() < deadline) {
		// Each read resolves as soon as a line arrives; the test timeout bounds a feed that stopped.
		const batch = await reader.read(5000);
		if (batch === null) break;
		into.push(...batch);
		if (batch.some((record) => record.entry.kind === 'command' && record.entry.args.at(-1)!.equals(marker))) return;
	}
	throw new Error(`marker ${marker.toString()} never arrived`);
}

describe('capture through a real redis-server is byte-exact', () => {
	let server: TestServer;
	let stateDir: string;
	let journal: Journal;
	let capture: CaptureStream;
	let reader: JournalReader;
	const counters = new Counters();
	const problems: string[] = [];
	const records: JournalRecord[] = [];
	let socketPath: string;

	beforeAll(async () => {
		stateDir = mkdtempSync(join(tmpdir(), 'keyferry-capture-'));
		socketPath = join(stateDir, 'redis.sock');
		server = await startStandalone({args: ['--unixsocket', socketPath, '--unixsocketperm', '700']});
		// A small window and small segments: the reader below goes through disk and segment rolls.
		journal = await Journal.open(join(stateDir, 'journal'), {maxMemoryWindow: 4 * 1024 * 1024, segmentBytes: 2 * 1024 * 1024});
		capture = new CaptureStream({
			endpoint: {host: '127.0.0.1', port: server.port, db: 0},
			journal,
			counters,
			onGap: (gap) => problems.push(`gap ${gap.reason}`),
			onWarning: (code, message) => problems.push(`warning ${code}: ${message}`),
			onFatal: (code, message) => problems.push(`fatal ${code}: ${message}`),
		});
		await capture.start();
		reader = journal.reader(journal.end);
	});

	afterAll(async () => {
		reader?.close();
		await capture?.stop();
		await journal?.close();
		await server?.stop();
		if (stateDir) rmSync(stateDir, {recursive: true, force: true});
	});

	it('knows the address of its own monitor connection', async () => {
		const list = String(await server.client().call('CLIENT', 'LIST', 'ID', String(capture.clientId)));
		expect(capture.clientAddress).toMatch(/^127\.0\.0\.1:\d+$/);
		expect(list).toContain(`addr=${capture.clientAddress}`);
		expect(list).toContain('name=keyferry-monitor');
		expect(list).toMatch(/flags=O/);
	});

	it('captures thousands of random binary keys and values, every byte value, empty strings and 1 MB values', async () => {
		const next = random(2024);
		const randomBytes = (length: number, mode = next()) =>
			Buffer.from(
				Array.from({length}, () =>
					mode < 0.4 ? Math.floor(next() * 256) : mode < 0.7 ? [0x22, 0x5c, 0x0d, 0x0a, 0x00, 0xff, 0x20, 0x5d][Math.floor(next() * 8)]! : 0x20 + Math.floor(next() * 95),
				),
			);
		const every = Buffer.from(Array.from({length: 256}, (_, i) => i));
		const plain = server.client();
		const other = server.client();
		await other.select(5);
		const addressOf = async (client: Redis) => /addr=(\S+)/.exec(String(await client.call('CLIENT', 'INFO')))![1]!;
		const plainAddress = await addressOf(plain);
		const otherAddress = await addressOf(other);

		const sent: Sent[] = [];
		const commands: {client: Redis; db: number; address: string; args: Buffer[]}[] = [];
		const add = (client: Redis, args: Buffer[]) =>
			commands.push({client, args, db: client === other ? 5 : 0, address: client === other ? otherAddress : plainAddress});
		const name = (text: string) => Buffer.from(text);
		add(plain, [name('SET'), every, Buffer.from(every).reverse()]);
		add(plain, [name('SET'), Buffer.alloc(0), Buffer.alloc(0)]);
		add(plain, [name('SET'), name('int'), name('12345')]);
		add(other, [name('SET'), name('neg'), name('-42')]);
		for (let i = 0; i < 4; i++) add(plain, [name('SET'), name(`big:${i}`), randomBytes(1024 * 1024, i / 4)]);
		for (let i = 0; i < 5000; i++) {
			const client = next() < 0.3 ? other : plain;
			const kind = next();
			const key = randomBytes(Math.floor(next() * 48));
			if (kind < 0.6) add(client, [name('SET'), key, randomBytes(next() < 0.1 ? 0 : Math.floor(next() * 2048))]);
			else if (kind < 0.8) add(client, [name('HSET'), key, randomBytes(Math.floor(next() * 16)), randomBytes(Math.floor(next() * 100))]);
			else if (kind < 0.9) add(client, [name('RPUSH'), key, ...Array.from({length: 1 + Math.floor(next() * 10)}, () => randomBytes(Math.floor(next() * 30)))]);
			else add(client, [name('GET'), key]);
		}
		const started = Date.now();
		for (let i = 0; i < commands.length; i += 250) {
			const batch = commands.slice(i, i + 250);
			// Each client's pipeline keeps its own order; commands of the two clients interleave freely.
			await Promise.all(
				[plain, other].map((client) => {
					const pipeline = client.pipeline();
					for (const command of batch.filter((one) => one.client === client)) {
						pipeline.callBuffer(command.args[0]!.toString(), ...command.args.slice(1));
					}
					return pipeline.exec();
				}),
			);
		}
		for (const command of commands) sent.push({db: command.db, client: command.address, args: command.args});
		const marker = Buffer.from(`done-${Date.now()}`);
		await plain.call('ECHO', marker);
		await readUntilMarker(reader, marker, records);
		const finished = Date.now();

		const captured = records.filter((record): record is JournalRecord & {entry: MonitorCommand} =>
			record.entry.kind === 'command' && (record.entry.client === plainAddress || record.entry.client === otherAddress),
		);
		// The test's own CLIENT INFO, SELECT, ECHO and ioredis' ready-check INFO are in the feed too.
		const ours = captured.filter((record) => !['ECHO', 'CLIENT', 'SELECT', 'INFO'].includes(record.entry.args[0]!.toString().toUpperCase()));
		expect(records.filter((record) => record.entry.kind !== 'command')).toEqual([]);
		for (const address of [plainAddress, otherAddress]) {
			const got = ours.filter((record) => record.entry.client === address).map((record) => record.entry);
			const want = sent.filter((one) => one.client === address);
			expect(got.length).toBe(want.length);
			for (let i = 0; i < want.length; i++) {
				const entry = got[i]!;
				const expected = want[i]!;
				expect(entry.db, `command ${i} of ${address}`).toBe(expected.db);
				expect(entry.clientKind).toBe('tcp');
				expect(entry.args.length, `command ${i} of ${address}`).toBe(expected.args.length);
				for (let a = 0; a < expected.args.length; a++) {
					if (!entry.args[a]!.equals(expected.args[a]!)) {
						throw new Error(`command ${i} of ${address}, argument ${a}: got ${entry.args[a]!.toString('hex').slice(0, 80)}, sent ${expected.args[a]!.toString('hex').slice(0, 80)}`);
					}
				}
			}
		}
		// Timestamps: integer microseconds inside the test's window, never going back.
		let previous = 0;
		for (const record of captured) {
			const ts = record.entry.ts;
			expect(Number.isSafeInteger(ts)).toBe(true);
			expect(ts).toBeGreaterThanOrEqual(previous);
			previous = ts;
		}
		expect(captured[0]!.entry.ts).toBeGreaterThanOrEqual((started - 1000) * 1000);
		expect(previous).toBeLessThanOrEqual((finished + 1000) * 1000);
		expect(counters.capturedBytes).toBe(journal.end);
		expect(counters.captured).toBeGreaterThanOrEqual(records.length);
		expect(problems).toEqual([]);
	});

	it('reads the same entries from the raw segment files whatever the chunking', async () => {
		await new Promise((resolve) => setTimeout(resolve, 200));
		const dir = join(stateDir, 'journal');
		const segments = readdirSync(dir).filter((file) => file.endsWith('.seg')).sort();
		expect(segments.length).toBeGreaterThan(3);
		const raw = Buffer.concat(segments.map((file) => readFileSync(join(dir, file))));
		const start = records[0]!.start;
		const end = records.at(-1)!.end;
		const slice = raw.subarray(start, end);
		const next = random(99);
		const parser = new MonitorParser();
		const entries: MonitorEntry[] = [];
		for (let pos = 0; pos < slice.length; ) {
			const size = 1 + Math.floor(next() * (next() < 0.5 ? 7 : 200_000));
			entries.push(...parser.push(slice.subarray(pos, pos + size)));
			pos += size;
		}
		expect(entries.length).toBe(records.length);
		// Compared by hand: deep equality over megabytes of Buffers is far too slow.
		for (let i = 0; i < entries.length; i++) {
			const got = entries[i]!;
			const want = records[i]!.entry;
			if (got.kind !== 'command' || want.kind !== 'command') {
				expect(got).toEqual(want);
				continue;
			}
			expect([got.ts, got.db, got.client, got.args.length]).toEqual([want.ts, want.db, want.client, want.args.length]);
			expect(got.args.every((arg, a) => arg.equals(want.args[a]!))).toBe(true);
		}
	});

	it('captures [db lua] lines with binary arguments', async () => {
		const client = server.client();
		const key = Buffer.from([0x6c, 0x00, 0xff, 0x22, 0x5c]);
		const value = Buffer.from([0x0d, 0x0a, 0x07, 0x08, 0x09, 0x80, 0x7f]);
		await client.select(2);
		await client.callBuffer('EVAL', "redis.call('SET', KEYS[1], ARGV[1]) return 1", '1', key, value);
		const marker = Buffer.from(`lua-${Date.now()}`);
		await client.call('ECHO', marker);
		const got: JournalRecord[] = [];
		await readUntilMarker(reader, marker, got);
		const lua = got.map((record) => record.entry).filter((entry): entry is MonitorCommand => entry.kind === 'command' && entry.clientKind === 'lua');
		expect(lua).toHaveLength(1);
		expect(lua[0]!.client).toBe('lua');
		expect(lua[0]!.db).toBe(2);
		expect(lua[0]!.args).toEqual([Buffer.from('SET'), key, value]);
	});

	it('captures commands from a unix socket client', async () => {
		const client = new Redis({path: socketPath, lazyConnect: false, maxRetriesPerRequest: 1});
		try {
			const key = Buffer.from([0xe2, 0x82, 0xac, 0x20, 0x22]);
			await client.callBuffer('SET', key, Buffer.alloc(0));
			const marker = Buffer.from(`unix-${Date.now()}`);
			await client.call('ECHO', marker);
			const got: JournalRecord[] = [];
			await readUntilMarker(reader, marker, got);
			const set = got.map((record) => record.entry).find((entry): entry is MonitorCommand => entry.kind === 'command' && entry.args[0]!.toString() === 'SET');
			expect(set?.client).toBe(`unix:${socketPath}`);
			expect(set?.clientKind).toBe('unix');
			expect(set?.args).toEqual([Buffer.from('SET'), key, Buffer.alloc(0)]);
		} finally {
			client.disconnect();
		}
	});
});
