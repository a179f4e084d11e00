/**
 * The cluster writer keeps each key's order with thousands of commands in flight while the target
 * cluster changes under it: a slot migrated between masters (ASK, then MOVED), a graceful
 * failover (MOVED from the demoted master), and a master killed and replaced by its replica
 * (replies that never came: those keys are handed back for re-copy, never resent blindly).
 *
 * Every key is a list that only ever gets RPUSH of increasing numbers, so any loss, duplicate or
 * reordering shows in its content.
 */
import Redis from 'ioredis';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {keySlot} from '../../source/replay/cluster-routing';
import {ClusterWriter} from '../../source/replay/cluster-writer';
import type {Arg} from '../../source/replay/writer';
import {startCluster, waitFor, type TestCluster, type TestServer} from '../helpers/redis';

let cluster: TestCluster;
const clients: Redis[] = [];

beforeAll(async () => {
	cluster = await startCluster({masters: 3, replicasPerMaster: 1, args: ['--repl-diskless-sync-delay', '0']});
});

afterAll(async () => {
	for (const client of clients) client.disconnect();
	await cluster?.stop();
});

function connect(port: number): Redis {
	const client = new Redis({host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null});
	client.on('error', () => {});
	clients.push(client);
	return client;
}

interface Slots {
	owner(slot: number): {port: number; id: string};
}

async function slots(port: number): Promise<Slots> {
	const reply = (await connect(port).call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
	return {
		owner(slot) {
			const range = reply.find(([from, to]) => slot >= from && slot <= to);
			if (!range) throw new Error(`slot ${slot} unserved`);
			return {port: range[2][1], id: range[2][2]};
		},
	};
}

interface Harness {
	writer: ClusterWriter;
	errors: string[];
	recopied: Set<string>;
	warnings: string[];
	/** Next value pushed to each key. */
	next: Map<string, number>;
}

function harness(): Harness {
	const errors: string[] = [];
	const recopied = new Set<string>();
	const warnings: string[] = [];
	const writer = new ClusterWriter(
		cluster.masters.map((master) => ({host: '127.0.0.1', port: master.port, db: 0})),
		{
			onError: (error: Error, command: Arg[]) => errors.push(`${String(command[0])}: ${error.message}`),
			onCrossSlot: (_db, keys) => {
				for (const key of keys) recopied.add(key.toString());
			},
			onWarning: (code, message) => warnings.push(`${code}: ${message}`),
		},
	);
	return {writer, errors, recopied, warnings, next: new Map()};
}

/** RPUSHes to `keys` round-robin, `perTick` commands per event-loop turn, until `until()` says stop and `minimum` went out. */
async function pushUntil(h: Harness, keys: string[], until: () => boolean, minimum: number, perTick = 200): Promise<number> {
	let sent = 0;
	for (let tick = 0; tick < 5000 && !(until() && sent >= minimum); tick++) {
		for (let i = 0; i < perTick; i++) {
			const key = keys[sent % keys.length]!;
			const value = h.next.get(key) ?? 0;
			h.next.set(key, value + 1);
			void h.writer.send(0, ['RPUSH', Buffer.from(key), value]);
			sent++;
		}
		await h.writer.waitForRoom();
		await new Promise((resolve) => setImmediate(resolve));
	}
	return sent;
}

/** Every key holds 0…n-1 in order, except keys handed to a re-copy (whose content the copier restores). */
async function expectInOrder(h: Harness): Promise<void> {
	const seed = connectToCurrent();
	for (const [key, count] of h.next) {
		if (h.recopied.has(key)) continue;
		const owner = (await slots(seed)).owner(keySlot(Buffer.from(key)));
		const values = (await connect(owner.port).lrange(key, 0, -1)).map(Number);
		expect(values.length, key).toBe(count);
		expect(values.every((value, index) => value === index), key).toBe(true);
	}
}

function connectToCurrent(): number {
	return alive().find((server) => server.process.exitCode === null)!.port;
}

function alive(): TestServer[] {
	return [...cluster.masters, ...cluster.replicas].filter((server) => server.process.exitCode === null && server.process.signalCode === null);
}

describe('ClusterWriter', () => {
	it('splits what splits, re-copies what does not, and runs flushes and functions on every master in order', async () => {
		const h = harness();
		await h.writer.ready;
		const b = (text: string) => Buffer.from(text);
		const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
		const before = keys.map((key) => h.writer.send(0, ['SET', b(`old:${key}`), 'x']));
		const flushed = h.writer.send(0, ['FLUSHALL']);
		const library = '#!lua name=kfw\nredis.register_function("kfw_one", function() return 1 end)';
		const loaded = h.writer.send(0, ['FUNCTION', 'LOAD', 'REPLACE', library]);
		const mset = h.writer.send(0, ['MSET', ...keys.flatMap((key) => [b(`new:${key}`), key])]);
		const deleted = h.writer.send(0, ['DEL', b('new:a'), b('new:b'), b('missing')]);
		const msetnx = h.writer.send(0, ['MSETNX', b('nx:a'), '1', b('nx:b'), '2']);
		const block = h.writer.transaction(0, [['SET', b('{t}1'), '1'], ['INCR', b('{t}2')]]);
		expect((await Promise.all(before)).map(String)).toEqual(keys.map(() => 'OK'));
		expect(String(await flushed)).toBe('OK');
		expect(await mset).toBe('OK');
		expect(await deleted).toBe(2);
		expect(await msetnx).toBeNull();
		expect(((await block) as unknown[]).map(String)).toEqual(['OK', '1']);
		await loaded;
		await h.writer.drain();
		expect(h.errors).toEqual([]);
		// MSETNX is all or nothing across slots: its keys go back to the source instead.
		expect([...h.recopied].sort()).toEqual(['nx:a', 'nx:b']);
		for (const port of (await Promise.all(alive().map(async (server) => ({server, role: await connect(server.port).info('replication')})))).filter(({role}) => role.includes('role:master')).map(({server}) => server.port)) {
			const node = connect(port);
			expect(await node.call('FCALL', 'kfw_one', 0)).toBe(1);
			for (const key of keys) {
				const slot = keySlot(b(`old:${key}`));
				if ((await slots(port)).owner(slot).port === port) expect(await node.exists(`old:${key}`)).toBe(0);
			}
		}
		const seed = connectToCurrent();
		for (const key of keys) {
			const owner = (await slots(seed)).owner(keySlot(b(`new:${key}`)));
			expect(await connect(owner.port).get(`new:${key}`)).toBe(['a', 'b'].includes(key) ? null : key);
		}
		h.writer.close();
	});

	it('keeps per-key order while a slot migrates to another master (ASK, then MOVED)', async () => {
		const h = harness();
		await h.writer.ready;
		const moving = Array.from({length: 8}, (_, i) => `{mig}:list:${i}`);
		const others = Array.from({length: 8}, (_, i) => `stay:${i}`);
		const slot = keySlot(Buffer.from(moving[0]!));
		const map = await slots(cluster.masters[0]!.port);
		const from = map.owner(slot);
		const to = (await Promise.all(cluster.masters.map(async (m) => ({port: m.port, id: String(await connect(m.port).call('CLUSTER', 'MYID'))})))).find((m) => m.port !== from.port)!;
		let migrated = false;
		const migration = (async () => {
			// Let commands pile up first, so the migration happens with thousands in flight.
			await new Promise((resolve) => setTimeout(resolve, 300));
			const source = connect(from.port);
			const target = connect(to.port);
			await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', from.id);
			await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', to.id);
			for (let round = 0; round < 1000; round++) {
				const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', slot, 2)) as string[];
				if (keys.length === 0) break;
				await source.call('MIGRATE', '127.0.0.1', to.port, '', 0, 5000, 'KEYS', ...keys);
				// Keep the slot half-migrated for a while: ASK redirections meanwhile.
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
			for (const master of cluster.masters) await connect(master.port).call('CLUSTER', 'SETSLOT', slot, 'NODE', to.id);
			migrated = true;
		})();
		let after = 0;
		const sent = await pushUntil(h, [...moving, ...others], () => migrated && ++after > 20, 10_000);
		await migration;
		await h.writer.drain();
		expect(sent).toBeGreaterThanOrEqual(10_000);
		expect(h.writer.pending).toBe(0);
		expect(h.errors).toEqual([]);
		expect(h.recopied.size).toBe(0);
		expect((await slots(cluster.masters[0]!.port)).owner(slot).port).toBe(to.port);
		await expectInOrder(h);
		h.writer.close();
	});

	it('keeps per-key order through a graceful failover (CLUSTER FAILOVER on a replica)', async () => {
		const h = harness();
		await h.writer.ready;
		const keys = Array.from({length: 30}, (_, i) => `failover:${i}`);
		const replica = cluster.replicas[0]!;
		let done = false;
		const failover = (async () => {
			await new Promise((resolve) => setTimeout(resolve, 300));
			await connect(replica.port).call('CLUSTER', 'FAILOVER');
			await waitFor(async () => (await connect(replica.port).info('replication')).includes('role:master'), 'the replica to take over', 10_000);
			await new Promise((resolve) => setTimeout(resolve, 300));
			done = true;
		})();
		const sent = await pushUntil(h, keys, () => done, 5000);
		await failover;
		await h.writer.drain();
		expect(sent).toBeGreaterThanOrEqual(5000);
		expect(h.errors).toEqual([]);
		expect(h.recopied.size).toBe(0);
		await expectInOrder(h);
		h.writer.close();
	});

	it('hands the keys of unanswered commands to a re-copy when a master dies and its replica takes over', async () => {
		const h = harness();
		await h.writer.ready;
		const keys = Array.from({length: 30}, (_, i) => `killed:${i}`);
		// The master of the first key dies; its replica is promoted with TAKEOVER.
		const map = await slots(connectToCurrent());
		const victim = alive().find((server) => server.port === map.owner(keySlot(Buffer.from(keys[0]!))).port)!;
		const victimId = String(await connect(victim.port).call('CLUSTER', 'MYID'));
		let heir: TestServer | undefined;
		for (const server of alive()) {
			const info = await connect(server.port).info('replication');
			if (info.includes('role:slave') && info.includes(`master_port:${victim.port}`)) heir = server;
		}
		expect(heir, 'a replica of the victim').toBeDefined();
		let done = false;
		const kill = (async () => {
			await new Promise((resolve) => setTimeout(resolve, 300));
			victim.process.kill('SIGKILL');
			await connect(heir!.port).call('CLUSTER', 'FAILOVER', 'TAKEOVER');
			await waitFor(async () => (await connect(heir!.port).info('replication')).includes('role:master'), 'the replica to take over', 10_000);
			await new Promise((resolve) => setTimeout(resolve, 500));
			done = true;
		})();
		const sent = await pushUntil(h, keys, () => done, 5000);
		await kill;
		await h.writer.drain();
		expect(sent).toBeGreaterThanOrEqual(5000);
		expect(h.writer.pending).toBe(0);
		expect(h.warnings.some((warning) => warning.startsWith('target-connection-lost'))).toBe(true);
		// The keys the lost master served were handed back; the others never saw a disturbance.
		const lostSlots = new Set(keys.filter((key) => h.recopied.has(key)).map((key) => keySlot(Buffer.from(key))));
		expect(lostSlots.has(keySlot(Buffer.from(keys[0]!)))).toBe(true);
		for (const key of h.recopied) expect((await slots(heir!.port)).owner(keySlot(Buffer.from(key))).port).toBe(heir!.port);
		expect(h.errors).toEqual([]);
		await expectInOrder(h);
		h.writer.close();
		// The cluster forgets the dead node, so later tests see a clean topology.
		for (const server of alive()) await connect(server.port).call('CLUSTER', 'FORGET', victimId).catch(() => {});
	});
});
