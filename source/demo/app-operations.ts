/**
 * What the demo application does, one operation at a time: users log in (a session with a TTL),
 * pages bump counters, users post to feeds, players score on leaderboards, services append events
 * to streams, editors tag articles, sessions are refreshed or end. Pure: the traffic generator
 * paces and sends what this returns.
 */
import type {Command} from './dataset';
import {
	counterKey,
	eventTypes,
	feedKey,
	feedLength,
	leaderboardKey,
	sessionKey,
	streamKey,
	streamLength,
	tagNames,
	tagsKey,
	userKey,
	type DatasetPlan,
} from './keyspace';
import type {Random} from './random';

export type OperationName = 'login' | 'pageview' | 'post' | 'score' | 'event' | 'tag' | 'refresh' | 'logout';

/** Relative frequency of each operation. */
export const operationWeights: ReadonlyArray<readonly [OperationName, number]> = [
	['login', 15],
	['pageview', 25],
	['post', 15],
	['score', 15],
	['event', 14],
	['tag', 6],
	['refresh', 6],
	['logout', 4],
];

/** Sessions the traffic remembers for refreshes and logouts; older ones just expire. */
const rememberedSessions = 1000;

/** What the application remembers between operations. */
export interface AppState {
	/** Number of the next session a login creates; seeded sessions are numbered below it. */
	nextSession: number;
	/** Session numbers of recent logins, oldest first. */
	sessions: number[];
}

export function newAppState(plan: DatasetPlan): AppState {
	return {nextSession: plan.sessions, sessions: []};
}

export interface Operation {
	name: OperationName;
	commands: Command[];
}

export function nextOperation(random: Random, plan: DatasetPlan, state: AppState, now: number): Operation {
	const name = random.weighted(operationWeights);
	return {name, commands: operationCommands(name, random, plan, state, now)};
}

function operationCommands(name: OperationName, random: Random, plan: DatasetPlan, state: AppState, now: number): Command[] {
	const user = random.int(plan.users);
	switch (name) {
		case 'login': {
			const session = state.nextSession++;
			state.sessions.push(session);
			if (state.sessions.length > rememberedSessions) state.sessions.shift();
			return [
				['SET', sessionKey(session), JSON.stringify({user, created: now}), 'EX', random.range(60, 1800)],
				['HSET', userKey(user), 'last_login', now],
				['HINCRBY', userKey(user), 'logins', 1],
			];
		}
		case 'pageview':
			return [['INCR', counterKey(random.int(plan.counters))]];
		case 'post': {
			const key = feedKey(random.int(plan.feeds));
			return [
				['LPUSH', key, JSON.stringify({by: userKey(user), post: random.int(1_000_000), at: now})],
				['LTRIM', key, 0, feedLength - 1],
			];
		}
		case 'score':
			return [['ZINCRBY', leaderboardKey(random.int(plan.leaderboards)), random.range(1, 50), userKey(user)]];
		case 'event':
			return [['XADD', streamKey(random.int(plan.streams)), 'MAXLEN', '~', streamLength, '*', 'type', random.pick(eventTypes), 'user', user]];
		case 'tag': {
			const key = tagsKey(random.int(plan.tags));
			return random.chance(0.7) ? [['SADD', key, random.pick(tagNames)]] : [['SREM', key, random.pick(tagNames)]];
		}
		case 'refresh':
			return [['EXPIRE', sessionKey(pickSession(random, plan, state, false)), 1800]];
		case 'logout':
			return [['DEL', sessionKey(pickSession(random, plan, state, true))]];
	}
}

/** A recent session when there is one (removed from memory on logout), else a seeded one. */
function pickSession(random: Random, plan: DatasetPlan, state: AppState, forget: boolean): number {
	if (state.sessions.length === 0) return random.int(plan.sessions);
	const index = random.int(state.sessions.length);
	const session = state.sessions[index]!;
	if (forget) state.sessions.splice(index, 1);
	return session;
}
