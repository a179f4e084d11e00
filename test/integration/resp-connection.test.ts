/**
 * RespConnection against a real redis-server: order under deep pipelines, binary safety,
 * login and its error messages (the same as connectNode's), and a server that dies mid-pipeline.
 */
import {Socket} from 'node:net';
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest';
import {KeyferryError} from '../../source/errors';
import {connectNode} from '../../source/redis/connect';
import type {NodeEndpoint} from '../../source/redis/endpoint';
import {RespConnection, RespError, type RespReply} from '../../source/redis/resp-connection';
import {freePort, startStandalone, waitFor, type TestServer} from '../helpers/redis';

let server: TestServer;
let secured: TestServer;
const connections: RespConnection[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

const endpointOf = (port: number, extra: Partial<NodeEndpoint> = {}): NodeEndpoint => ({host: '127.0.0.1', port, db: 0, ...extra});

async function open(endpoint: NodeEndpoint, name?: string): Promise<RespConnection> {
	const connection = await RespConnection.open(endpoint, 'source', name);
	connections.push(connection);
	return connection;
}

async function refusal(promise: Promise<unknown>): Promise<KeyferryError> {
	const error = await promise.then(
		() => null,
		(reason: unknown) => reason,
	);
	expect(error).toBeInstanceOf(KeyferryError);
	return error as KeyferryError;
}

beforeAll(async () => {
	process.on('unhandledRejection', onUnhandled);
	[server, secured] = await Promise.all([startStandalone(), startStandalone({password: 's3cret'})]);
});

afterEach(() => vi.restoreAllMocks());

afterAll(async () => {
	for (const connection of connections) connection.close();
	await Promise.all([server?.stop(), secured?.stop()]);
	process.off('unhandledRejection', onUnhandled);
	expect(unhandled).toEqual([]);
});

describe('RespConnection', () => {
	it('answers 100k pipelined commands in order, in a few writes', async () => {
		const connection = await open(endpointOf(server.port));
		const writes = vi.spyOn(Socket.prototype, 'write');
		const count = 100_000;
		const replies: Array<Promise<RespReply>> = [];
		for (let i = 0; i < count; i++) replies.push(connection.send(['INCR', 'order:counter']));
		expect(connection.pending).toBe(count);
		const values = await Promise.all(replies);
		expect(values).toEqual(Array.from({length: count}, (_, i) => i + 1));
		expect(connection.pending).toBe(0);
		// ~2.5 MB of commands leave in 64 KiB writes, not one write per command.
		expect(writes.mock.calls.length).toBeLessThan(200);
	});

	it('round-trips every byte value in keys and values, through SET/GET and DUMP/RESTORE', async () => {
		const connection = await open(endpointOf(server.port));
		const key = Buffer.from(Array.from({length: 256}, (_, i) => i));
		const value = Buffer.from(Array.from({length: 1024}, (_, i) => 255 - (i % 256)));
		const copy = Buffer.concat([Buffer.from('copy:'), key]);
		const [set, got, dump] = await Promise.all([connection.send(['SET', key, value]), connection.send(['GET', key]), connection.send(['DUMP', key])]);
		expect(set).toBe('OK');
		expect(Buffer.isBuffer(got) && got.equals(value)).toBe(true);
		expect(Buffer.isBuffer(dump)).toBe(true);
		expect(await connection.send(['RESTORE', copy, 0, dump as Buffer, 'REPLACE'])).toBe('OK');
		const restored = await connection.send(['GET', copy]);
		expect(Buffer.isBuffer(restored) && restored.equals(value)).toBe(true);
		// The same bytes seen by ioredis: the encoding is the server's, not ours.
		const other = server.client();
		expect((await other.getBuffer(key))?.equals(value)).toBe(true);
	});

	it('encodes strings as UTF-8 and numbers as decimals', async () => {
		const connection = await open(endpointOf(server.port));
		const text = 'héllo ✓ 😀';
		await connection.send(['SET', 'utf8', text]);
		expect(await connection.send(['GET', 'utf8'])).toEqual(Buffer.from(text, 'utf8'));
		await connection.send(['SET', 'number', 1.5]);
		expect(await connection.send(['INCRBYFLOAT', 'number', -3])).toEqual(Buffer.from('-1.5'));
		expect(await connection.send(['SET', 'long-ascii', 'x'.repeat(200_000)])).toBe('OK');
		expect(await connection.send(['STRLEN', 'long-ascii'])).toBe(200_000);
	});

	it('moves values of many MB both ways', async () => {
		const connection = await open(endpointOf(server.port));
		const big = Buffer.alloc(6 * 1024 * 1024);
		for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
		const replies = await Promise.all([connection.send(['SET', 'big', big]), connection.send(['GET', 'big']), connection.send(['STRLEN', 'big'])]);
		expect(replies[0]).toBe('OK');
		expect((replies[1] as Buffer).equals(big)).toBe(true);
		expect(replies[2]).toBe(big.length);
	});

	it('resolves error replies as RespError values and keeps the order after them', async () => {
		const connection = await open(endpointOf(server.port));
		const replies = await Promise.all([
			connection.send(['SET', 'text', 'abc']),
			connection.send(['INCR', 'text']),
			connection.send(['NOSUCHCOMMAND']),
			connection.send(['MULTI']),
			connection.send(['TYPE', 'text']),
			connection.send(['LPUSH', 'text', 'x']),
			connection.send(['EXEC']),
			connection.send(['GET', 'missing']),
		]);
		expect(replies[0]).toBe('OK');
		expect(replies[1]).toBeInstanceOf(RespError);
		expect((replies[1] as RespError).message).toMatch(/^ERR value is not an integer/);
		expect((replies[2] as RespError).message).toMatch(/^ERR unknown command/);
		expect(replies.slice(3, 6)).toEqual(['OK', 'QUEUED', 'QUEUED']);
		const exec = replies[6] as RespReply[];
		expect(exec[0]).toBe('string');
		expect((exec[1] as RespError).message).toMatch(/^WRONGTYPE/);
		expect(replies[7]).toBeNull();
	});

	it('names the connection and selects the endpoint db', async () => {
		const connection = await open(endpointOf(server.port, {db: 3}), 'keyferry-test');
		expect(await connection.send(['CLIENT', 'GETNAME'])).toEqual(Buffer.from('keyferry-test'));
		await connection.send(['SET', 'in-db-3', 'yes']);
		const other = server.client();
		await other.select(3);
		expect(await other.get('in-db-3')).toBe('yes');
		const info = await connection.send(['CLIENT', 'INFO']);
		expect(String(info)).toMatch(/ name=keyferry-test /);
	});

	it('logs in with a password', async () => {
		const connection = await open(endpointOf(secured.port, {password: 's3cret'}));
		expect(await connection.send(['PING'])).toBe('PONG');
	});

	it('refuses a wrong or missing password with the same message as connectNode', async () => {
		for (const endpoint of [endpointOf(secured.port, {password: 'wrong'}), endpointOf(secured.port)]) {
			const ours = await refusal(RespConnection.open(endpoint, 'source'));
			const theirs = await refusal(connectNode(endpoint, 'source'));
			expect(ours.code).toBe('auth-failed');
			expect(ours.message).toMatch(new RegExp(`^authentication to the source 127\\.0\\.0\\.1:${secured.port} failed: `));
			expect(ours.message).toBe(theirs.message);
		}
	});

	it('ignores a password the server does not need, like ioredis', async () => {
		const connection = await open(endpointOf(server.port, {password: 'unneeded'}));
		expect(await connection.send(['PING'])).toBe('PONG');
	});

	it('reports a refused connection like connectNode', async () => {
		const endpoint = endpointOf(await freePort());
		const ours = await refusal(RespConnection.open(endpoint, 'target'));
		expect(ours.message).toBe(`cannot connect to the target 127.0.0.1:${endpoint.port}: connection refused`);
		expect(ours.message).toBe((await refusal(connectNode(endpoint, 'target'))).message);
	});

	it('reports a server that refuses the connection (maxclients) with its own words', async () => {
		const full = await startStandalone({args: ['--maxclients', '1']});
		try {
			const holder = full.client();
			// The start-up probe's connection may still be counted: wait until the holder is the only client.
			await waitFor(async () => (await holder.info('clients')).includes('connected_clients:1\r'), 'one client', 10_000);
			const ours = await refusal(RespConnection.open(endpointOf(full.port), 'source'));
			expect(ours.message).toBe(`cannot connect to the source 127.0.0.1:${full.port}: ERR max number of clients reached`);
		} finally {
			await full.stop();
		}
	});

	it('rejects every pending command with connection-lost when the server dies mid-pipeline', async () => {
		const doomed = await startStandalone();
		try {
			const connection = await open(endpointOf(doomed.port));
			const closed = new Promise<KeyferryError | null>((resolve) => connection.onClose(resolve));
			expect(await connection.send(['PING'])).toBe('PONG');
			// The server blocks on BLPOP, so everything after it is still pending when it dies.
			const count = 1000;
			const replies = [connection.send(['BLPOP', 'nothing', '10'])];
			for (let i = 0; i < count; i++) replies.push(connection.send(['INCR', 'after']));
			const settled = Promise.allSettled(replies);
			const viaCallback = new Promise<KeyferryError | null>((resolve) => connection.write(['PING'], (error) => resolve(error)));
			const admin = doomed.client();
			await waitFor(async () => (await admin.info('clients')).includes('blocked_clients:1'), 'the client to block', 10_000);
			expect(connection.pending).toBe(count + 2);
			await doomed.stop();
			const outcomes = await settled;
			expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
			for (const outcome of outcomes) {
				const reason = (outcome as PromiseRejectedResult).reason as KeyferryError;
				expect(reason).toBeInstanceOf(KeyferryError);
				expect(reason.code).toBe('connection-lost');
				expect(reason.message).toMatch(new RegExp(`^lost the connection to the source 127\\.0\\.0\\.1:${doomed.port}: `));
			}
			expect((await viaCallback)?.code).toBe('connection-lost');
			expect((await closed)?.code).toBe('connection-lost');
			expect(connection.pending).toBe(0);
			// Later commands fail the same way, asynchronously.
			expect((await refusal(connection.send(['PING']))).code).toBe('connection-lost');
		} finally {
			await doomed.stop();
		}
	});

	it('close() rejects what is pending and tells onClose listeners it was closed on purpose', async () => {
		const connection = await open(endpointOf(server.port));
		const closed = new Promise<KeyferryError | null>((resolve) => connection.onClose(resolve));
		const reply = connection.send(['BLPOP', 'nothing-either', '10']);
		connection.close();
		expect((await refusal(reply)).code).toBe('connection-lost');
		expect(await closed).toBeNull();
		expect(connection.pending).toBe(0);
	});
});
