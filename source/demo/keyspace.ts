/**
 * The demo application's keyspace: which kinds of keys it keeps, how many of each for a given
 * total, and their names. The seeder and the traffic generator both name keys from here, so the
 * traffic updates the keys that were seeded.
 */
export const keyKinds = ['users', 'sessions', 'counters', 'feeds', 'tags', 'leaderboards', 'streams'] as const;
export type KeyKind = (typeof keyKinds)[number];

export type DatasetPlan = Record<KeyKind, number>;

/** Share of the keys per kind, in percent: mostly small hashes and strings, a few big keys. */
const shares: Record<KeyKind, number> = {users: 30, sessions: 30, counters: 15, feeds: 10, tags: 10, leaderboards: 3, streams: 2};

/** Below this some kinds would round to zero keys. */
export const minDatasetKeys = 100;

/** Exactly `total` keys, at least one of each kind. */
export function planDataset(total: number): DatasetPlan {
	if (!Number.isSafeInteger(total) || total < minDatasetKeys) throw new RangeError(`a demo dataset needs at least ${minDatasetKeys} keys`);
	const plan = Object.fromEntries(keyKinds.map((kind) => [kind, Math.floor((total * shares[kind]) / 100)])) as DatasetPlan;
	// What rounding left over goes to the sessions, the most disposable kind.
	plan.sessions += total - keyKinds.reduce((sum, kind) => sum + plan[kind], 0);
	return plan;
}

export function planTotal(plan: DatasetPlan): number {
	return keyKinds.reduce((sum, kind) => sum + plan[kind], 0);
}

export const counterNames = ['pageviews', 'signups', 'api-calls', 'downloads', 'checkouts'] as const;
export const tagNames = ['redis', 'migration', 'ops', 'backend', 'go', 'rust', 'node', 'python', 'sre', 'infra', 'cache', 'queue'] as const;
export const plans = ['free', 'team', 'pro', 'enterprise'] as const;
export const eventTypes = ['login', 'logout', 'purchase', 'page', 'search', 'upload'] as const;
/** The consumer group every event stream has, with some entries pending. */
export const streamGroup = 'workers';
/** Entries kept per feed list and per event stream. */
export const feedLength = 50;
export const streamLength = 1000;

export const userKey = (id: number) => `user:${id}`;
export const counterKey = (n: number) => `counter:${counterNames[n % counterNames.length]}:${n}`;
export const feedKey = (userId: number) => `feed:user:${userId}`;
export const tagsKey = (n: number) => `tags:article:${n}`;
export const leaderboardKey = (n: number) => `leaderboard:game:${n}`;
export const streamKey = (n: number) => `events:shard:${n}`;
export const sessionKey = (n: number) => `session:${sessionToken(n)}`;

/** A token that looks random but is fixed by n, so seeded and new sessions never collide. */
export function sessionToken(n: number): string {
	let a = (n * 0x9e3779b1) >>> 0;
	let b = (n ^ 0x85ebca6b) >>> 0;
	a = Math.imul(a ^ (a >>> 16), 0x7feb352d) >>> 0;
	b = Math.imul(b ^ (b >>> 13), 0x846ca68b) >>> 0;
	return `${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}${n.toString(36)}`;
}
