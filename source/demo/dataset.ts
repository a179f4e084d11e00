/**
 * Seeds the demo's source with what a small web application keeps in Redis: user profiles
 * (hashes), login sessions with TTLs (some short enough to expire during the migration), counters,
 * activity feeds (lists), article tags (sets), game leaderboards (sorted sets, a few big enough to
 * leave the compact encoding) and event streams with a consumer group and pending entries.
 */
import Redis from 'ioredis';
import {KeyferryError} from '../errors';
import {
	counterKey,
	eventTypes,
	feedKey,
	keyKinds,
	leaderboardKey,
	plans,
	sessionKey,
	streamGroup,
	streamKey,
	tagNames,
	tagsKey,
	userKey,
	type DatasetPlan,
	type KeyKind,
} from './keyspace';
import {Random} from './random';

export type Command = [name: string, ...args: Array<string | number>];

export interface SeedOptions {
	port: number;
	plan: DatasetPlan;
	seed?: number;
	/** Checked between batches: seeding ends early once it is aborted. */
	signal?: AbortSignal;
	/** Keys written so far, after each batch. */
	onProgress?: (written: number) => void;
}

/** Commands per pipeline round trip. */
const batchSize = 2000;
/** Leaderboards this big are stored as skiplists, not listpacks, so DUMP sees both encodings. */
const bigLeaderboards = 3;

export async function seedDataset(options: SeedOptions): Promise<{keys: number}> {
	const client = new Redis({host: '127.0.0.1', port: options.port, lazyConnect: true, maxRetriesPerRequest: 1});
	client.on('error', () => {});
	const random = new Random(options.seed ?? 1);
	const now = Date.now();
	let batch: Command[] = [];
	let written = 0;
	const flush = async () => {
		if (batch.length === 0) return;
		const pipeline = client.pipeline();
		for (const [name, ...args] of batch) pipeline.call(name, ...args);
		const replies = (await pipeline.exec()) ?? [];
		batch = [];
		const failed = replies.find(([error]) => error !== null);
		if (failed?.[0]) throw new KeyferryError('demo-seed', `seeding the demo source failed: ${failed[0].message}`);
	};
	try {
		await client.connect();
		for (const kind of keyKinds) {
			for (let n = 0; n < options.plan[kind]; n++) {
				batch.push(...seedCommands(kind, n, options.plan, random, now));
				written++;
				if (batch.length >= batchSize) {
					// The caller decides what a stop means; seeding just ends early.
					if (options.signal?.aborted) return {keys: written};
					await flush();
					options.onProgress?.(written);
				}
			}
		}
		await flush();
		options.onProgress?.(written);
		return {keys: written};
	} finally {
		client.disconnect();
	}
}

/** The commands that create key number `n` of `kind`. Pure given the random state. */
export function seedCommands(kind: KeyKind, n: number, plan: DatasetPlan, random: Random, now: number): Command[] {
	const someUser = () => random.int(plan.users);
	switch (kind) {
		case 'users': {
			const created = now - random.range(1, 900) * 86_400_000;
			return [
				[
					'HSET',
					userKey(n),
					'name',
					`user ${n}`,
					'email',
					`user${n}@example.com`,
					'plan',
					random.pick(plans),
					'country',
					random.pick(['de', 'fr', 'us', 'br', 'in', 'jp', 'ng', 'au']),
					'created_at',
					created,
					'last_login',
					created + random.int(now - created),
					'logins',
					random.int(500),
				],
			];
		}
		case 'sessions': {
			const session = JSON.stringify({user: someUser(), ip: `10.${random.int(256)}.${random.int(256)}.${random.int(256)}`, created: now - random.int(3_600_000)});
			// One in ten is about to expire: those disappear while the migration runs, as real sessions do.
			const ttl = random.chance(0.1) ? random.range(5, 60) : random.range(600, 3600);
			return [['SET', sessionKey(n), session, 'EX', ttl]];
		}
		case 'counters':
			return [['SET', counterKey(n), random.int(1_000_000)]];
		case 'feeds': {
			const items = Array.from({length: random.range(5, 50)}, () => JSON.stringify({by: userKey(someUser()), post: random.int(1_000_000), at: now - random.int(86_400_000)}));
			return [['RPUSH', feedKey(n), ...items]];
		}
		case 'tags':
			return [['SADD', tagsKey(n), ...Array.from({length: random.range(2, 6)}, () => random.pick(tagNames))]];
		case 'leaderboards': {
			const size = n < bigLeaderboards ? 2000 : random.range(10, 100);
			const members = Array.from({length: size}, (_, i) => [random.int(100_000), userKey(i % plan.users)]).flat();
			return [['ZADD', leaderboardKey(n), ...members]];
		}
		case 'streams': {
			const key = streamKey(n);
			const entries: Command[] = Array.from({length: random.range(20, 100)}, () => [
				'XADD',
				key,
				'*',
				'type',
				random.pick(eventTypes),
				'user',
				someUser(),
			]);
			// A worker has read a few entries and not acknowledged them yet: the group has a backlog.
			return [...entries, ['XGROUP', 'CREATE', key, streamGroup, '0'], ['XREADGROUP', 'GROUP', streamGroup, 'worker-1', 'COUNT', random.range(1, 10), 'STREAMS', key, '>']];
		}
	}
}
