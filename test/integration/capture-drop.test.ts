/**
 * A capture that loses its connection must say so: every drop becomes a gap line at its place in
 * the journal and an onGap call, then the capture reconnects. A TCP proxy on 127.0.0.1 plays the
 * broken network.
 */
import {mkdtempSync, rmSync} from 'node:fs';
import {createServer, connect, type Server, type Socket} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {CaptureStream, type CaptureStreamOptions} from '../../source/capture/capture-stream';
import {Journal, type JournalRecord} from '../../source/capture/journal';
import type {MonitorGap} from '../../source/capture/monitor-parser';
import {Counters} from '../../source/engine/counters';
import {KeyferryError} from '../../source/errors';
import {startStandalone, waitFor, type TestServer} from '../helpers/redis';

interface Link {
	client: Socket;
	server: Socket;
	monitor: boolean;
	/** Server→client bytes are dropped: a half-open connection. */
	blackhole: boolean;
	/** Forward half of the next server→client chunk, then cut both sides. */
	cutNext: boolean;
}

class Proxy {
	readonly links: Link[] = [];
	refuse = false;
	private server: Server;
	port = 0;

	constructor(private readonly target: number) {
		this.server = createServer((client) => {
			if (this.refuse) {
				client.destroy();
				return;
			}
			const server = connect(this.target, '127.0.0.1');
			const link: Link = {client, server, monitor: false, blackhole: false, cutNext: false};
			this.links.push(link);
			client.on('data', (chunk: Buffer) => {
				if (chunk.includes('MONITOR')) link.monitor = true;
				server.write(chunk);
			});
			server.on('data', (chunk: Buffer) => {
				if (link.blackhole) return;
				if (link.cutNext && link.monitor) {
					client.write(chunk.subarray(0, Math.max(1, chunk.length >> 1)), () => {
						client.destroy();
						server.destroy();
					});
					return;
				}
				client.write(chunk);
			});
			const close = () => {
				client.destroy();
				server.destroy();
			};
			client.on('close', close);
			server.on('close', close);
			client.on('error', () => {});
			server.on('error', () => {});
		});
	}

	async listen(): Promise<void> {
		await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
		this.port = (this.server.address() as {port: number}).port;
	}

	monitors(): Link[] {
		return this.links.filter((link) => link.monitor && !link.client.destroyed);
	}

	/** The link whose redis-side address is `address` (what the server, and CLIENT INFO, see). */
	linkOf(address: string | null): Link {
		const link = this.links.find((one) => !one.client.destroyed && `127.0.0.1:${one.server.localPort}` === address);
		if (!link) throw new Error(`no proxy link for ${address}`);
		return link;
	}

	killAll(): void {
		for (const link of this.links) {
			link.client.destroy();
			link.server.destroy();
		}
	}

	async close(): Promise<void> {
		this.killAll();
		await new Promise((resolve) => this.server.close(resolve));
	}
}

describe('capture drops become gaps, then capture reconnects', () => {
	let server: TestServer;
	let proxy: Proxy;
	let stateDir: string;
	const cleanups: (() => Promise<void>)[] = [];

	beforeAll(async () => {
		stateDir = mkdtempSync(join(tmpdir(), 'keyferry-drop-'));
		server = await startStandalone();
		proxy = new Proxy(server.port);
		await proxy.listen();
	});

	afterAll(async () => {
		for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
		await proxy?.close();
		await server?.stop();
		if (stateDir) rmSync(stateDir, {recursive: true, force: true});
	});

	let journalCount = 0;
	async function startCapture(overrides: Partial<CaptureStreamOptions> = {}, port = proxy.port, start = true) {
		const journal = await Journal.open(join(stateDir, `journal-${journalCount++}`), {maxMemoryWindow: 1 << 20});
		const gaps: (MonitorGap & {node: string})[] = [];
		const warnings: string[] = [];
		const fatals: string[] = [];
		const capture = new CaptureStream({
			endpoint: {host: '127.0.0.1', port, db: 0},
			journal,
			counters: new Counters(),
			onGap: (gap) => gaps.push(gap),
			onWarning: (code) => warnings.push(code),
			onFatal: (code, message) => fatals.push(`${code}: ${message}`),
			reconnect: {minDelayMs: 50, maxDelayMs: 300},
			...overrides,
		});
		const reader = journal.reader(journal.end);
		cleanups.push(async () => {
			reader.close();
			await capture.stop();
			await journal.close();
		});
		if (start) await capture.start();
		return {journal, capture, reader, gaps, warnings, fatals};
	}

	/** Reads until an ECHO of `marker` shows up. */
	async function readUntil(reader: ReturnType<Journal['reader']>, marker: string): Promise<JournalRecord[]> {
		const out: JournalRecord[] = [];
		const deadline = Date.now() + 20_000;
		while (Date.now() < deadline) {
			const batch = await reader.read(1000);
			if (batch === null) break;
			out.push(...batch);
			if (batch.some((record) => record.entry.kind === 'command' && record.entry.args.at(-1)?.toString() === marker)) return out;
		}
		throw new Error(`${marker} never arrived`);
	}

	const kinds = (records: JournalRecord[]) =>
		records
			.map((record) => (record.entry.kind === 'command' ? record.entry.args.map(String).join(' ').replace(/^set /, 'SET ') : record.entry.kind))
			.filter((text) => text.startsWith('SET') || text === 'gap' || text === 'malformed');

	it('records a gap in order when the server kills the monitor, and captures again after', async () => {
		const {capture, reader, gaps, warnings} = await startCapture();
		const client = server.client();
		await client.set('before', '1');
		await client.echo('m1');
		await readUntil(reader, 'm1');
		const firstAddress = capture.clientAddress;
		await client.call('CLIENT', 'KILL', 'ID', String(capture.clientId));
		await waitFor(async () => gaps.length === 1, 'the gap');
		await client.set('after', '2');
		await client.echo('m2');
		const records = await readUntil(reader, 'm2');
		expect(kinds(records)).toEqual(['gap', 'SET after 2']);
		const gap = records.find((record) => record.entry.kind === 'gap')!.entry as MonitorGap;
		expect(gap).toEqual({kind: 'gap', fromMs: gaps[0]!.fromMs, toMs: gaps[0]!.toMs, reason: gaps[0]!.reason});
		expect(gap.fromMs).toBeLessThanOrEqual(gap.toMs);
		expect(gaps[0]!.node).toBe(`127.0.0.1:${proxy.port}`);
		expect(warnings).toContain('capture-dropped');
		expect(capture.clientAddress).not.toBe(firstAddress);
		expect(capture.stats).toMatchObject({gaps: 1, connected: true});
	});

	it('retries with warnings while the source is unreachable, and the gap spans the outage', async () => {
		const {capture, reader, gaps, warnings} = await startCapture();
		const client = server.client();
		proxy.refuse = true;
		const outageStart = Date.now();
		proxy.linkOf(capture.clientAddress).client.destroy();
		await waitFor(async () => warnings.filter((code) => code === 'capture-reconnect').length >= 2, 'reconnect warnings');
		// Written while the capture cannot see it: inside the gap.
		await client.set('unseen', 'x');
		proxy.refuse = false;
		await waitFor(async () => gaps.length === 1, 'the gap');
		const outageEnd = Date.now();
		await client.set('seen', 'y');
		await client.echo('m3');
		const records = await readUntil(reader, 'm3');
		expect(kinds(records)).toEqual(['gap', 'SET seen y']);
		expect(gaps[0]!.fromMs).toBeLessThanOrEqual(outageStart);
		expect(gaps[0]!.toMs).toBeGreaterThanOrEqual(outageStart + 100);
		expect(gaps[0]!.toMs).toBeLessThanOrEqual(outageEnd);
	});

	it('detects a half-open monitor connection through the heartbeat probe', async () => {
		const {capture, reader, gaps} = await startCapture({heartbeatMs: 150, deadAfterMs: 600});
		const client = server.client();
		await client.echo('m4');
		await readUntil(reader, 'm4');
		// An idle feed gets the probe's PINGs, ordinary lines from the probe's own address.
		await new Promise((resolve) => setTimeout(resolve, 500));
		await client.echo('m4b');
		const idle = await readUntil(reader, 'm4b');
		expect(capture.probeAddress).toMatch(/^127\.0\.0\.1:\d+$/);
		expect(idle.some((record) => record.entry.kind === 'command' && record.entry.client === capture.probeAddress && String(record.entry.args[0]) === 'PING')).toBe(true);
		proxy.linkOf(capture.clientAddress).blackhole = true;
		await waitFor(async () => gaps.length === 1, 'the half-open gap', 15_000);
		expect(gaps[0]!.reason).toMatch(/half-open/);
		await client.set('later', '1');
		await client.echo('m5');
		const records = await readUntil(reader, 'm5');
		expect(kinds(records)).toEqual(['gap', 'SET later 1']);
	});

	it('closes a line cut by the drop so it reads as malformed, never as a shorter command', async () => {
		const {capture, reader, gaps} = await startCapture({heartbeatMs: 0});
		const client = server.client();
		await client.echo('m6');
		await readUntil(reader, 'm6');
		proxy.linkOf(capture.clientAddress).cutNext = true;
		await client.set('cut', 'x'.repeat(1000));
		await waitFor(async () => gaps.length === 1, 'the gap');
		await client.echo('m7');
		const records = await readUntil(reader, 'm7');
		expect(kinds(records)).toEqual(['malformed', 'gap']);
		expect(records[0]!.entry).toMatchObject({kind: 'malformed', reason: 'line cut short by a dropped monitor connection'});
	});

	it('records the gap when stopped while reconnecting', async () => {
		const {capture, reader, gaps} = await startCapture({reconnect: {minDelayMs: 5000}});
		proxy.refuse = true;
		proxy.linkOf(capture.clientAddress).client.destroy();
		await new Promise((resolve) => setTimeout(resolve, 100));
		await capture.stop();
		proxy.refuse = false;
		expect(gaps).toHaveLength(1);
		expect(gaps[0]!.reason).toMatch(/capture stopped before reconnecting/);
		const records = await reader.read(10);
		expect(records?.map((record) => record.entry.kind)).toEqual(['gap']);
	});

	it('stops on a whole line even under heavy traffic', async () => {
		const {capture, journal} = await startCapture({}, server.port);
		const from = journal.end;
		const client = server.client();
		let flooding = true;
		const flood = (async () => {
			for (let round = 0; round < 200 && flooding; round++) {
				const pipeline = client.pipeline();
				for (let i = 0; i < 200; i++) pipeline.set(`flood:${i}`, 'x'.repeat(500));
				await pipeline.exec();
			}
		})();
		await new Promise((resolve) => setTimeout(resolve, 200));
		await capture.stop();
		flooding = false;
		await flood;
		await journal.close();
		const reader = journal.reader(from);
		const records: JournalRecord[] = [];
		for (let batch = await reader.read(10_000); batch !== null && records.length < 1_000_000; batch = await reader.read(10_000)) records.push(...batch);
		expect(records.length).toBeGreaterThan(100);
		expect(records.filter((record) => record.entry.kind !== 'command')).toEqual([]);
		expect(records.at(-1)!.end).toBe(journal.end);
	});

	it('records a restart gap when the journal already held data', async () => {
		const dir = join(stateDir, 'restart');
		const first = await Journal.open(dir, {maxMemoryWindow: 1 << 20});
		first.append(Buffer.from('+1700000000.000000 [0 127.0.0.1:1] "SET" "a" "b"\r\n'));
		await first.close();
		const journal = await Journal.open(dir, {maxMemoryWindow: 1 << 20});
		const gaps: MonitorGap[] = [];
		const capture = new CaptureStream({
			endpoint: {host: '127.0.0.1', port: server.port, db: 0},
			journal,
			counters: new Counters(),
			onGap: (gap) => gaps.push(gap),
			onWarning: () => {},
			onFatal: () => {},
		});
		const from = journal.end;
		await capture.start();
		await capture.stop();
		await journal.close();
		expect(gaps).toHaveLength(1);
		expect(gaps[0]!.reason).toBe('capture was not running');
		const records = await journal.reader(from).read(10);
		expect(records?.[0]?.entry).toMatchObject({kind: 'gap', reason: 'capture was not running'});
	});

	it('fails start with a clear error when the source is unreachable', async () => {
		const {capture, fatals} = await startCapture({}, 1, false);
		await expect(capture.start()).rejects.toMatchObject({code: 'source-unreachable'});
		expect(fatals).toHaveLength(1);
		expect(fatals[0]).toMatch(/^source-unreachable: cannot start MONITOR on 127\.0\.0\.1:1: .*ECONNREFUSED/);
	});
});

describe('capture refuses clearly when it may not log in or MONITOR', () => {
	let server: TestServer;
	let stateDir: string;

	beforeAll(async () => {
		stateDir = mkdtempSync(join(tmpdir(), 'keyferry-auth-'));
		server = await startStandalone({password: 'secret'});
		await server.client().call('ACL', 'SETUSER', 'limited', 'on', '>pw', '~*', '&*', '+@all', '-monitor');
	});

	afterAll(async () => {
		await server?.stop();
		if (stateDir) rmSync(stateDir, {recursive: true, force: true});
	});

	async function attempt(login: {username?: string; password?: string}): Promise<{error: unknown; fatals: string[]; capture: CaptureStream}> {
		const journal = await Journal.open(mkdtempSync(join(stateDir, 'j-')), {maxMemoryWindow: 1 << 20});
		const fatals: string[] = [];
		const capture = new CaptureStream({
			endpoint: {host: '127.0.0.1', port: server.port, db: 0, ...login},
			journal,
			counters: new Counters(),
			onGap: () => {},
			onWarning: () => {},
			onFatal: (code, message) => fatals.push(`${code}: ${message}`),
		});
		let error: unknown = null;
		try {
			await capture.start();
		} catch (caught) {
			error = caught;
		}
		await capture.stop();
		await journal.close();
		return {error, fatals, capture};
	}

	it.each([
		[{password: 'wrong'}, 'auth-failed', /refused the login: WRONGPASS/],
		[{}, 'auth-failed', /requires a password: NOAUTH/],
		[{username: 'limited', password: 'nope'}, 'auth-failed', /refused the login as 'limited': WRONGPASS/],
		[{username: 'limited', password: 'pw'}, 'monitor-refused', /refused MONITOR for user 'limited': NOPERM/],
	])('%j → %s', async (login, code, message) => {
		const {error, fatals} = await attempt(login);
		expect(error).toBeInstanceOf(KeyferryError);
		expect(error).toMatchObject({code});
		expect(fatals).toHaveLength(1);
		expect(fatals[0]).toMatch(new RegExp(`^${code}: 127\\.0\\.0\\.1:\\d+ `));
		expect(fatals[0]).toMatch(message);
		expect(fatals[0]).not.toMatch(/\n|at .*\(/);
	});

	it('starts with the right password', async () => {
		const {error, fatals, capture} = await attempt({password: 'secret'});
		expect(error).toBeNull();
		expect(fatals).toEqual([]);
		expect(capture.clientAddress).toMatch(/^127\.0\.0\.1:/);
	});
});
