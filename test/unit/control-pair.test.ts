import {describe, expect, it} from 'vitest';
import {answerRequest, attachedCount, grantUnanswered, handOver, holds, joinPair, leavePair, requestControl, watchingText} from '../../source/control/pair';
import {noPair, type PairState, type Party} from '../../source/engine/store';

const local: Party = {id: 'c0', name: 'ops@bastion#c0', kind: 'console'};
const alice: Party = {id: 'a1', name: 'alice@box#a1', kind: 'client'};
const bob: Party = {id: 'b2', name: 'bob@box#b2', kind: 'client'};
const pair = (holder: string | null, request: string | null = null, parties: Party[] = [local, alice, bob]): PairState => ({parties, holder, request});

describe('joinPair', () => {
	it.each([
		['the first client holds when nobody does', noPair, alice, {holder: 'a1', parties: ['a1']}],
		['a later client watches', pair('a1', null, [alice]), bob, {holder: 'a1', parties: ['a1', 'b2']}],
		['the local console goes first in the list but does not take over', pair('a1', null, [alice]), local, {holder: 'a1', parties: ['c0', 'a1']}],
		['the local console holds a fresh run', noPair, local, {holder: 'c0', parties: ['c0']}],
	])('%s', (_name, before, party, expected) => {
		const step = joinPair(before, party);
		expect({holder: step.pair.holder, parties: step.pair.parties.map((item) => item.id)}).toEqual(expected);
		expect(step.log).toContain(party.name);
	});
});

describe('leavePair', () => {
	it.each([
		['a watcher leaves', pair('c0'), 'b2', 'c0', null],
		['the holder leaves: the local console takes over', pair('a1'), 'a1', 'c0', null],
		['the local console leaves: the first client takes over', pair('c0'), 'c0', 'a1', null],
		['the holder leaves: the one who asked takes over', pair('c0', 'b2'), 'c0', 'b2', null],
		['the one who asked leaves: the request goes', pair('c0', 'b2'), 'b2', 'c0', null],
		['the last party leaves', pair('a1', null, [alice]), 'a1', null, null],
	])('%s', (_name, before, id, holder, request) => {
		const step = leavePair(before, id);
		expect(step.pair.holder).toBe(holder);
		expect(step.pair.request).toBe(request);
		expect(step.pair.parties.some((party) => party.id === id)).toBe(false);
	});

	it('ignores a party that is not there', () => expect(leavePair(pair('c0'), 'zz').refused).toBe('not attached'));
});

describe('requestControl', () => {
	it.each([
		['asks a present holder', pair('c0'), 'a1', false, {holder: 'c0', request: 'a1'}, null],
		['takes from an idle holder', pair('c0'), 'a1', true, {holder: 'a1', request: null}, null],
		['the holder asking', pair('c0'), 'c0', false, {holder: 'c0', request: null}, 'you already hold the controls'],
		['asking twice', pair('c0', 'a1'), 'a1', false, {holder: 'c0', request: 'a1'}, 'already asked ops@bastion#c0; waiting for an answer'],
		['a second asker waits', pair('c0', 'a1'), 'b2', false, {holder: 'c0', request: 'a1'}, 'alice@box#a1 asked first; wait for ops@bastion#c0 to answer'],
	])('%s', (_name, before, id, idle, expected, refused) => {
		const step = requestControl(before, id, idle);
		expect({holder: step.pair.holder, request: step.pair.request}).toEqual(expected);
		expect(step.refused).toBe(refused);
	});
});

describe('answerRequest, handOver, grantUnanswered', () => {
	it.each([
		['accept', answerRequest(pair('c0', 'a1'), 'c0', true), 'a1', null],
		['decline', answerRequest(pair('c0', 'a1'), 'c0', false), 'c0', null],
		['a watcher cannot answer', answerRequest(pair('c0', 'a1'), 'b2', true), 'c0', 'watching: ops@bastion#c0 holds the controls'],
		['nothing to answer', answerRequest(pair('c0'), 'c0', true), 'c0', 'nobody asked for the controls'],
		['hand over', handOver(pair('c0', 'a1'), 'c0', 'b2'), 'b2', null],
		['a watcher cannot hand over', handOver(pair('c0'), 'a1', 'b2'), 'c0', 'watching: ops@bastion#c0 holds the controls'],
		['not to oneself', handOver(pair('c0'), 'c0', 'c0'), 'c0', 'you already hold the controls'],
		['not to a stranger', handOver(pair('c0'), 'c0', 'zz'), 'c0', 'zz is not attached'],
		['unanswered', grantUnanswered(pair('c0', 'a1')), 'a1', null],
	])('%s', (_name, step, holder, refused) => {
		expect(step.pair.holder).toBe(holder);
		expect(step.refused).toBe(refused);
		if (refused === null) {
			expect(step.pair.request).toBeNull();
			expect(step.log).not.toBeNull();
		}
	});
});

describe('holds and texts', () => {
	it.each([
		[noPair, null, true],
		[pair('c0'), 'c0', true],
		[pair('c0'), 'a1', false],
		[pair('c0'), null, false],
	])('%j %s', (state, id, expected) => expect(holds(state, id)).toBe(expected));

	it('names the holder and counts clients only', () => {
		expect(watchingText(pair('a1'))).toBe('watching: alice@box#a1 holds the controls');
		expect(attachedCount(pair('c0'))).toBe(2);
	});
});
