/**
 * The control socket's protocol: one JSON object per line, each with `v` (the protocol version)
 * and `type`. The server sends a snapshot of the store's serializable state on connect, then
 * batched updates (the changed top-level members and the new log events) and notices; a client
 * sends hello, actions (the store's controls) and control requests. Everything received is
 * validated here; a message that does not validate is answered with an error, never trusted.
 */
import {stages, type StageStatus} from '../engine/stages';
import type {FeedEntry, KeyferryState} from '../engine/store';

export const protocolVersion = 1;

/** A client line longer than this is not one of ours. */
export const maxClientLineBytes = 64 * 1024;
/** Snapshots carry the rollback preview (up to 10 000 entries) and the log. */
export const maxServerLineBytes = 64 * 1024 * 1024;

/** Everything the console renders: the store without its functions. */
export type MirrorState = Omit<KeyferryState, 'controls' | 'pairControls'>;
/** Changed members only; the log travels as `events`. */
export type MirrorUpdate = Partial<Omit<MirrorState, 'feed' | 'feedSeq'>>;

export type Action =
	| {name: 'advance'}
	| {name: 'setCopyPaused'; paused: boolean}
	| {name: 'setCopyRate'; rate: number | null}
	| {name: 'verifyNow'}
	| {name: 'rollback'}
	| {name: 'quit'}
	| {name: 'abort'};

export type ActionName = Action['name'];

export type ControlRequest = {request: 'take'} | {request: 'answer'; accept: boolean} | {request: 'give'; to: string};

export type ClientMessage =
	| {v: typeof protocolVersion; type: 'hello'; name: string}
	| {v: typeof protocolVersion; type: 'action'; action: Action}
	| ({v: typeof protocolVersion; type: 'control'} & ControlRequest)
	| {v: typeof protocolVersion; type: 'active'};

export type NoticeTone = 'info' | 'warn' | 'bad';

export type ServerMessage =
	| {v: typeof protocolVersion; type: 'snapshot'; you: string; state: MirrorState}
	| {v: typeof protocolVersion; type: 'update'; state: MirrorUpdate; events: FeedEntry[]}
	| {v: typeof protocolVersion; type: 'notice'; text: string; tone: NoticeTone}
	| {v: typeof protocolVersion; type: 'error'; code: string; message: string};

export type Decoded<T> = {ok: true; message: T} | {ok: false; code: string; message: string};

/** Distributes over the union, so each message is written without `v`. */
export type WithoutVersion<T> = T extends unknown ? Omit<T, 'v'> : never;

export function encode(message: WithoutVersion<ClientMessage> | WithoutVersion<ServerMessage>): string {
	return `${JSON.stringify({v: protocolVersion, ...message})}\n`;
}

// ---- validation helpers: each returns the reason a value is wrong, or null ----

type Check = (value: unknown) => string | null;
type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString: Check = (value) => (typeof value === 'string' ? null : 'a string');
const isNumber: Check = (value) => (typeof value === 'number' && Number.isFinite(value) ? null : 'a number');
const isBoolean: Check = (value) => (typeof value === 'boolean' ? null : 'true or false');
const isObject: Check = (value) => (isRecord(value) ? null : 'an object');
const nullable =
	(check: Check): Check =>
	(value) =>
		value === null ? null : check(value);
const oneOf =
	(values: readonly string[]): Check =>
	(value) =>
		typeof value === 'string' && values.includes(value) ? null : `one of ${values.join(', ')}`;
const arrayOf =
	(check: Check): Check =>
	(value) => {
		if (!Array.isArray(value)) return 'an array';
		for (const item of value) {
			const problem = check(item);
			if (problem) return `an array of ${problem}`;
		}
		return null;
	};
const shape =
	(fields: Record<string, Check>): Check =>
	(value) => {
		if (!isRecord(value)) return 'an object';
		for (const [name, check] of Object.entries(fields)) {
			const problem = check(value[name]);
			if (problem) return `an object whose ${name} is ${problem}`;
		}
		return null;
	};

const stageStatuses: readonly StageStatus[] = ['running', 'ready', 'failed', 'finished'];
const endpoint = shape({label: isString, version: nullable(isString)});
const feedEntry = shape({seq: isNumber, ts: isNumber, event: shape({type: isString})});
const statsNumbers = ['keysCopied', 'keysTotal', 'captured', 'applied', 'lag', 'lagSeconds', 'copyRate', 'applyRate', 'captureRate', 'recopies', 'samples', 'sampleRate', 'discrepancies', 'journalBytes'];
const pairState = shape({
	parties: arrayOf(shape({id: isString, name: isString, kind: oneOf(['console', 'client'])})),
	holder: nullable(isString),
	request: nullable(isString),
});

/** One check per member of MirrorState: the client takes no member it cannot render. */
const stateChecks: Record<keyof MirrorState, Check> = {
	migrationId: isString,
	startedAt: isNumber,
	source: endpoint,
	target: endpoint,
	stage: oneOf(stages),
	stageStatus: oneOf(stageStatuses),
	stageDetail: isString,
	completedStages: arrayOf(oneOf(stages)),
	preflight: nullable(shape({source: isObject, target: isObject, findings: arrayOf(isObject), ok: isBoolean})),
	stats: shape({stage: oneOf(stages), ...Object.fromEntries(statsNumbers.map((name) => [name, isNumber]))}),
	history: shape({captured: arrayOf(isNumber), applied: arrayOf(isNumber), copied: arrayOf(isNumber), lag: arrayOf(isNumber)}),
	health: shape({source: arrayOf(isObject), target: arrayOf(isObject)}),
	copy: shape({paused: isBoolean, rateLimit: nullable(isNumber)}),
	rollback: nullable(shape({entries: arrayOf(shape({key: isString, db: isNumber, change: isString, keyType: isString, diff: isString})), total: isNumber, ready: isBoolean, counts: isObject})),
	discrepancies: arrayOf(shape({key: isString, db: isNumber, kind: isString, diff: isString})),
	feed: arrayOf(feedEntry),
	feedSeq: isNumber,
	exitCode: nullable(isNumber),
	stopping: isBoolean,
	pair: pairState,
};

const stateKeys = Object.keys(stateChecks) as Array<keyof MirrorState>;

function checkMembers(value: Json, keys: readonly (keyof MirrorState)[], required: boolean): string | null {
	for (const key of keys) {
		if (!(key in value)) {
			if (required) return `state.${key} is missing`;
			continue;
		}
		const problem = stateChecks[key](value[key]);
		if (problem) return `state.${key} must be ${problem}`;
	}
	return null;
}

/** Only the known members, so a newer server's extras never reach the store. */
function pickKnown(value: Json, keys: readonly (keyof MirrorState)[]): Json {
	return Object.fromEntries(keys.filter((key) => key in value).map((key) => [key, value[key]]));
}

function parseLine(line: string): Decoded<Json> {
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch {
		return {ok: false, code: 'bad-json', message: 'not a JSON line'};
	}
	if (!isRecord(value)) return {ok: false, code: 'bad-message', message: 'a message must be a JSON object'};
	if (value['v'] !== protocolVersion) return {ok: false, code: 'version', message: `protocol version ${JSON.stringify(value['v'] ?? null)} is not supported (this side speaks ${protocolVersion})`};
	if (typeof value['type'] !== 'string') return {ok: false, code: 'bad-message', message: 'a message needs a type'};
	return {ok: true, message: value};
}

const bad = (message: string): {ok: false; code: string; message: string} => ({ok: false, code: 'bad-message', message});

const actionChecks: Record<ActionName, Record<string, Check>> = {
	advance: {},
	setCopyPaused: {paused: isBoolean},
	setCopyRate: {rate: nullable((value) => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? null : 'a positive whole number'))},
	verifyNow: {},
	rollback: {},
	quit: {},
	abort: {},
};

/** Printable, short: it is shown in every console's header and log. */
const partyName: Check = (value) => (typeof value === 'string' && value.length > 0 && value.length <= 64 && /^[\x21-\x7e]+$/.test(value) ? null : 'a name of 1-64 printable ASCII characters');

export function decodeClientMessage(line: string): Decoded<ClientMessage> {
	const parsed = parseLine(line);
	if (!parsed.ok) return parsed;
	const value = parsed.message;
	const v = protocolVersion;
	switch (value['type']) {
		case 'hello': {
			const problem = partyName(value['name']);
			return problem ? bad(`hello: name must be ${problem}`) : {ok: true, message: {v, type: 'hello', name: value['name'] as string}};
		}
		case 'active':
			return {ok: true, message: {v, type: 'active'}};
		case 'action': {
			const action = value['action'];
			if (!isRecord(action) || typeof action['name'] !== 'string' || !Object.hasOwn(actionChecks, action['name'])) {
				return bad(`action: name must be one of ${Object.keys(actionChecks).join(', ')}`);
			}
			const name = action['name'] as ActionName;
			for (const [field, check] of Object.entries(actionChecks[name])) {
				const problem = check(action[field]);
				if (problem) return bad(`action ${name}: ${field} must be ${problem}`);
			}
			return {ok: true, message: {v, type: 'action', action: {...pickFields(action, Object.keys(actionChecks[name])), name} as Action}};
		}
		case 'control': {
			const request = value['request'];
			if (request === 'take') return {ok: true, message: {v, type: 'control', request}};
			if (request === 'answer') {
				if (typeof value['accept'] !== 'boolean') return bad('control answer: accept must be true or false');
				return {ok: true, message: {v, type: 'control', request, accept: value['accept']}};
			}
			if (request === 'give') {
				if (typeof value['to'] !== 'string' || value['to'].length > 64) return bad('control give: to must be a party id');
				return {ok: true, message: {v, type: 'control', request, to: value['to']}};
			}
			return bad('control: request must be take, answer or give');
		}
		default:
			return bad(`unknown message type ${JSON.stringify(value['type'])}`);
	}
}

function pickFields(value: Json, fields: string[]): Json {
	return Object.fromEntries(fields.map((field) => [field, value[field]]));
}

export function decodeServerMessage(line: string): Decoded<ServerMessage> {
	const parsed = parseLine(line);
	if (!parsed.ok) return parsed;
	const value = parsed.message;
	const v = protocolVersion;
	switch (value['type']) {
		case 'snapshot': {
			if (typeof value['you'] !== 'string') return bad('snapshot: you must be a string');
			const state = value['state'];
			if (!isRecord(state)) return bad('snapshot: state must be an object');
			const problem = checkMembers(state, stateKeys, true);
			if (problem) return bad(`snapshot: ${problem}`);
			return {ok: true, message: {v, type: 'snapshot', you: value['you'], state: pickKnown(state, stateKeys) as unknown as MirrorState}};
		}
		case 'update': {
			const state = value['state'];
			if (!isRecord(state)) return bad('update: state must be an object');
			const keys = stateKeys.filter((key) => key !== 'feed' && key !== 'feedSeq');
			const problem = checkMembers(state, keys, false);
			if (problem) return bad(`update: ${problem}`);
			const events = arrayOf(feedEntry)(value['events']);
			if (events) return bad(`update: events must be ${events}`);
			return {ok: true, message: {v, type: 'update', state: pickKnown(state, keys) as MirrorUpdate, events: value['events'] as FeedEntry[]}};
		}
		case 'notice': {
			const tone = value['tone'];
			if (typeof value['text'] !== 'string' || (tone !== 'info' && tone !== 'warn' && tone !== 'bad')) return bad('notice: text and tone (info, warn, bad) required');
			return {ok: true, message: {v, type: 'notice', text: value['text'], tone}};
		}
		case 'error':
			if (typeof value['code'] !== 'string' || typeof value['message'] !== 'string') return bad('error: code and message required');
			return {ok: true, message: {v, type: 'error', code: value['code'], message: value['message']}};
		default:
			return bad(`unknown message type ${JSON.stringify(value['type'])}`);
	}
}

/** The store as it goes over the socket: its functions stay behind. */
export function mirrorOf(state: KeyferryState): MirrorState {
	const {controls: _controls, pairControls: _pairControls, ...mirror} = state;
	return mirror;
}

/** What changed between two broadcasts: members replaced since (the store never mutates in place), and new log events. */
export function updateBetween(previous: MirrorState, next: MirrorState): {state: MirrorUpdate; events: FeedEntry[]} | null {
	const state: Json = {};
	for (const key of stateKeys) {
		if (key === 'feed' || key === 'feedSeq') continue;
		if (previous[key] !== next[key]) state[key] = next[key];
	}
	const events = next.feedSeq > previous.feedSeq ? next.feed.filter((entry) => entry.seq > previous.feedSeq) : [];
	if (Object.keys(state).length === 0 && events.length === 0) return null;
	return {state: state as MirrorUpdate, events};
}

/** The mirror side: merge an update, appending only events it has not seen, the log kept as long as the server's. */
export function applyUpdate(state: MirrorState, update: {state: MirrorUpdate; events: FeedEntry[]}, feedLength: number): MirrorState {
	const fresh = update.events.filter((entry) => entry.seq > state.feedSeq);
	const feed = fresh.length === 0 ? state.feed : [...state.feed, ...fresh].slice(-feedLength);
	return {...state, ...update.state, feed, feedSeq: fresh.at(-1)?.seq ?? state.feedSeq};
}
