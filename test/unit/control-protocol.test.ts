import {describe, expect, it} from 'vitest';
import {LineReader} from '../../source/control/line-reader';
import {applyUpdate, decodeClientMessage, decodeServerMessage, encode, mirrorOf, updateBetween, type MirrorState} from '../../source/control/protocol';
import {createKeyferryStore, emit, feedLength} from '../../source/engine/store';

const line = (value: unknown) => JSON.stringify(value);

describe('decodeClientMessage', () => {
	it.each([
		[{v: 1, type: 'hello', name: 'alice@box'}, {v: 1, type: 'hello', name: 'alice@box'}],
		[{v: 1, type: 'active'}, {v: 1, type: 'active'}],
		[{v: 1, type: 'action', action: {name: 'advance'}}, {v: 1, type: 'action', action: {name: 'advance'}}],
		[{v: 1, type: 'action', action: {name: 'setCopyPaused', paused: true}}, {v: 1, type: 'action', action: {name: 'setCopyPaused', paused: true}}],
		[{v: 1, type: 'action', action: {name: 'setCopyRate', rate: null}}, {v: 1, type: 'action', action: {name: 'setCopyRate', rate: null}}],
		[{v: 1, type: 'action', action: {name: 'setCopyRate', rate: 500}}, {v: 1, type: 'action', action: {name: 'setCopyRate', rate: 500}}],
		// Extra fields are dropped, never passed on to the engine.
		[{v: 1, type: 'action', action: {name: 'quit', force: true}}, {v: 1, type: 'action', action: {name: 'quit'}}],
		[{v: 1, type: 'control', request: 'take'}, {v: 1, type: 'control', request: 'take'}],
		[{v: 1, type: 'control', request: 'answer', accept: false}, {v: 1, type: 'control', request: 'answer', accept: false}],
		[{v: 1, type: 'control', request: 'give', to: 'a1b2'}, {v: 1, type: 'control', request: 'give', to: 'a1b2'}],
	])('%j', (input, expected) => expect(decodeClientMessage(line(input))).toEqual({ok: true, message: expected}));

	it.each([
		['{', 'bad-json'],
		['[1]', 'bad-message'],
		['null', 'bad-message'],
		[line({type: 'hello', name: 'x'}), 'version'],
		[line({v: 2, type: 'hello', name: 'x'}), 'version'],
		[line({v: 1}), 'bad-message'],
		[line({v: 1, type: 'shutdown'}), 'bad-message'],
		[line({v: 1, type: 'hello'}), 'bad-message'],
		[line({v: 1, type: 'hello', name: ''}), 'bad-message'],
		[line({v: 1, type: 'hello', name: 'a b'}), 'bad-message'],
		[line({v: 1, type: 'hello', name: '\u001b[2J'}), 'bad-message'],
		[line({v: 1, type: 'hello', name: 'x'.repeat(65)}), 'bad-message'],
		[line({v: 1, type: 'action'}), 'bad-message'],
		[line({v: 1, type: 'action', action: {name: 'flushall'}}), 'bad-message'],
		[line({v: 1, type: 'action', action: {name: 'toString'}}), 'bad-message'],
		[line({v: 1, type: 'action', action: {name: 'setCopyPaused'}}), 'bad-message'],
		[line({v: 1, type: 'action', action: {name: 'setCopyPaused', paused: 'yes'}}), 'bad-message'],
		[line({v: 1, type: 'action', action: {name: 'setCopyRate', rate: -5}}), 'bad-message'],
		[line({v: 1, type: 'action', action: {name: 'setCopyRate', rate: 1.5}}), 'bad-message'],
		[line({v: 1, type: 'action', action: {name: 'setCopyRate'}}), 'bad-message'],
		[line({v: 1, type: 'control', request: 'steal'}), 'bad-message'],
		[line({v: 1, type: 'control', request: 'answer'}), 'bad-message'],
		[line({v: 1, type: 'control', request: 'give', to: 7}), 'bad-message'],
	])('refuses %s', (input, code) => {
		const decoded = decodeClientMessage(input);
		expect(decoded.ok).toBe(false);
		if (!decoded.ok) {
			expect(decoded.code).toBe(code);
			expect(decoded.message).not.toContain('\n');
		}
	});
});

describe('decodeServerMessage', () => {
	const state = mirrorOf(createKeyferryStore({migrationId: 'kf-1', startedAt: 1}).getState());

	it('takes a snapshot of the whole state and drops unknown members', () => {
		const decoded = decodeServerMessage(line({v: 1, type: 'snapshot', you: 'ab12', state: {...state, secret: 'x'}}));
		expect(decoded).toEqual({ok: true, message: {v: 1, type: 'snapshot', you: 'ab12', state}});
	});

	it.each([
		[{v: 1, type: 'update', state: {stage: 'copy'}, events: []}, true],
		[{v: 1, type: 'update', state: {}, events: [{seq: 1, ts: 2, event: {type: 'info', message: 'hi'}}]}, true],
		[{v: 1, type: 'notice', text: 'watching', tone: 'warn'}, true],
		[{v: 1, type: 'error', code: 'bad-json', message: 'not a JSON line'}, true],
		[{v: 1, type: 'snapshot', you: 'ab12', state: {...state, stage: 'launch'}}, false],
		[{v: 1, type: 'snapshot', you: 'ab12', state: {migrationId: 'kf-1'}}, false],
		[{v: 1, type: 'snapshot', state}, false],
		[{v: 1, type: 'update', state: {stage: 'launch'}, events: []}, false],
		[{v: 1, type: 'update', state: {stats: {...state.stats, lag: 'many'}}, events: []}, false],
		[{v: 1, type: 'update', state: {pair: {parties: [{id: 'a', name: 'x', kind: 'ghost'}], holder: null, request: null}}, events: []}, false],
		[{v: 1, type: 'update', state: {}, events: [{seq: 1}]}, false],
		[{v: 1, type: 'update', state: {}}, false],
		[{v: 1, type: 'notice', text: 'x', tone: 'loud'}, false],
		[{v: 2, type: 'notice', text: 'x', tone: 'info'}, false],
	])('%j: %s', (input, ok) => expect(decodeServerMessage(line(input)).ok).toBe(ok));
});

describe('encode', () => {
	it('writes one versioned line', () => {
		expect(encode({type: 'action', action: {name: 'advance'}})).toBe('{"v":1,"type":"action","action":{"name":"advance"}}\n');
	});
});

describe('mirrorOf', () => {
	it('leaves the functions behind and holds no password', () => {
		const store = createKeyferryStore({source: {label: 'redis://127.0.0.1:6379', version: null}});
		const mirror = mirrorOf(store.getState());
		expect(Object.keys(mirror)).not.toContain('controls');
		expect(Object.keys(mirror)).not.toContain('pairControls');
		expect(decodeServerMessage(encode({type: 'snapshot', you: 'a', state: mirror})).ok).toBe(true);
	});
});

describe('updateBetween and applyUpdate', () => {
	it('sends only the replaced members and the new events, and the mirror catches up', () => {
		const store = createKeyferryStore({migrationId: 'kf-1'});
		const before = mirrorOf(store.getState());
		expect(updateBetween(before, before)).toBeNull();
		store.setState({stage: 'copy', copy: {paused: true, rateLimit: null}});
		emit(store, {type: 'info', message: 'one'});
		emit(store, {type: 'info', message: 'two'});
		const after = mirrorOf(store.getState());
		const update = updateBetween(before, after)!;
		expect(Object.keys(update.state).sort()).toEqual(['copy', 'stage']);
		expect(update.events.map((entry) => entry.seq)).toEqual([1, 2]);
		const mirrored = applyUpdate(before, update, feedLength);
		expect(mirrored).toEqual(after);
		// The same update twice (a client that attached between two broadcasts) changes nothing.
		expect(applyUpdate(mirrored, update, feedLength)).toEqual(after);
	});

	it('keeps the log as long as the server does', () => {
		const state: MirrorState = mirrorOf(createKeyferryStore().getState());
		const events = Array.from({length: 5}, (_, index) => ({seq: index + 1, ts: 0, event: {type: 'info' as const, message: String(index)}}));
		const next = applyUpdate(state, {state: {}, events}, 3);
		expect(next.feed.map((entry) => entry.seq)).toEqual([3, 4, 5]);
		expect(next.feedSeq).toBe(5);
	});
});

describe('LineReader', () => {
	it.each([
		[['a\nb', '\n'], [['a'], ['b']]],
		[['{"x":', '1}\n\n'], [[], ['{"x":1}']]],
		[['x\ny\nz'], [['x', 'y']]],
	])('%j', (chunks, expected) => {
		const reader = new LineReader(100);
		expect(chunks.map((chunk) => reader.push(chunk))).toEqual(expected);
	});

	it('refuses a line past the limit, complete or not', () => {
		expect(new LineReader(4).push('12345\n')).toBe('overflow');
		const reader = new LineReader(4);
		expect(reader.push('123')).toEqual([]);
		expect(reader.push('45')).toBe('overflow');
	});
});
