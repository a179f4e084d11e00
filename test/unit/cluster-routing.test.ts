import {describe, expect, it} from 'vitest';
import {AckedWrites} from '../../source/replay/acked-writes';
import {crc16, keySlot, routeCommand, routeTransaction, type Route} from '../../source/replay/cluster-routing';
import type {Arg} from '../../source/replay/writer';

const b = (text: string) => Buffer.from(text);
const texts = (args: Arg[]) => args.map((arg) => (Buffer.isBuffer(arg) ? arg.toString('latin1') : String(arg)));

/** Shown as text, so a failing case reads clearly. */
function shown(route: Route): unknown {
	switch (route.kind) {
		case 'slot':
			return {kind: 'slot', slot: route.slot, command: texts(route.command), keys: texts(route.keys)};
		case 'split':
			return {kind: 'split', reply: route.reply, parts: route.parts.map((part) => ({slot: part.slot, command: texts(part.command)}))};
		case 'cross-slot':
			return {kind: 'cross-slot', keys: texts(route.keys)};
		case 'broadcast':
			return {kind: 'broadcast', command: texts(route.command)};
		default:
			return route;
	}
}

describe('keySlot', () => {
	it('is CRC16/XMODEM', () => {
		expect(crc16(b('123456789'))).toBe(0x31c3);
	});

	// Expected slots from CLUSTER KEYSLOT on redis-server 7.0.
	it.each([
		['', 0],
		['foo', 12182],
		['123456789', 12739],
		['{user1000}.following', 3443],
		['{user1000}.followers', 3443],
		['foo{}{bar}', 8363],
		['foo{{bar}}zap', 4015],
		['foo{bar}{zap}', 5061],
		['{}', 15257],
		['a{b', 13340],
		['}{x}', 16287],
		['kf:str:{t7}:39', 553],
		['keyferry', 6903],
	])('%j → %i', (key, slot) => {
		expect(keySlot(b(key))).toBe(slot);
	});

	it('hashes bytes, not characters', () => {
		expect(keySlot(Buffer.from([0xff]))).toBe(7920);
	});
});

// Keys by slot: {a}… share one slot, {b}… another.
const [a1, a2, b1, c1] = ['{a}1', '{a}2', '{b}1', '{c}1'].map(b);
const slotA = keySlot(a1!);
const slotB = keySlot(b1!);
const slotC = keySlot(c1!);

describe('routeCommand', () => {
	it('routes a single-slot command to its slot, as it is', () => {
		expect(shown(routeCommand(['SET', a1!, 'v', 'PXAT', 123]))).toEqual({kind: 'slot', slot: slotA, command: ['SET', '{a}1', 'v', 'PXAT', '123'], keys: ['{a}1']});
		expect(shown(routeCommand([b('rename'), a1!, a2!]))).toMatchObject({kind: 'slot', slot: slotA});
		expect(shown(routeCommand(['RESTORE', b1!, 0, Buffer.from([1, 2]), 'REPLACE']))).toMatchObject({kind: 'slot', slot: slotB, keys: ['{b}1']});
	});

	it.each(['DEL', 'UNLINK', 'EXISTS', 'TOUCH'])('splits %s across slots, keys in order, replies summed', (name) => {
		expect(shown(routeCommand([name, a1!, b1!, a2!, c1!]))).toEqual({
			kind: 'split',
			reply: 'sum',
			parts: [
				{slot: slotA, command: [name, '{a}1', '{a}2']},
				{slot: slotB, command: [name, '{b}1']},
				{slot: slotC, command: [name, '{c}1']},
			],
		});
	});

	it('splits MSET across slots keeping pairs (a key set twice stays in one part: the last value wins)', () => {
		expect(shown(routeCommand(['MSET', a1!, 'x', b1!, 'y', a1!, 'z']))).toEqual({
			kind: 'split',
			reply: 'ok',
			parts: [
				{slot: slotA, command: ['MSET', '{a}1', 'x', '{a}1', 'z']},
				{slot: slotB, command: ['MSET', '{b}1', 'y']},
			],
		});
	});

	it.each<[string, Arg[]]>([
		['MSETNX (all or nothing)', ['MSETNX', a1!, 'x', b1!, 'y']],
		['SUNIONSTORE', ['SUNIONSTORE', a1!, b1!, c1!]],
		['RENAME', ['RENAME', a1!, b1!]],
		['LMOVE', ['LMOVE', a1!, b1!, 'LEFT', 'RIGHT']],
		['ZUNIONSTORE (numkeys)', ['ZUNIONSTORE', a1!, 2, a2!, b1!]],
		['COPY', ['COPY', a1!, b1!, 'REPLACE']],
	])('re-copies %s across slots', (_, command) => {
		const route = routeCommand(command);
		expect(route.kind).toBe('cross-slot');
	});

	it('re-copies each key once', () => {
		expect(shown(routeCommand(['SUNIONSTORE', a1!, b1!, a1!]))).toEqual({kind: 'cross-slot', keys: ['{a}1', '{b}1']});
	});

	it.each<[Arg[]]>([[['FLUSHALL']], [['flushdb', 'ASYNC']], [['FUNCTION', 'LOAD', 'REPLACE', 'code']], [['function', 'delete', 'lib']], [['FUNCTION', 'FLUSH']], [['FUNCTION', 'RESTORE', Buffer.from([0])]]])(
		'sends %j to every master',
		(command) => {
			expect(routeCommand(command).kind).toBe('broadcast');
		},
	);

	it('drops what the merged db 0 makes a no-op, and strips COPY … DB 0', () => {
		expect(routeCommand(['SWAPDB', 0, 0])).toEqual({kind: 'noop', reply: 'OK'});
		expect(routeCommand(['MOVE', a1!, 0])).toEqual({kind: 'noop', reply: 0});
		expect(shown(routeCommand(['COPY', a1!, a2!, 'DB', 0, 'REPLACE']))).toMatchObject({kind: 'slot', slot: slotA, command: ['COPY', '{a}1', '{a}2', 'REPLACE']});
	});

	it('refuses what a cluster cannot take', () => {
		expect(routeCommand(['SWAPDB', 0, 1]).kind).toBe('unroutable');
		expect(routeCommand(['MOVE', a1!, 2]).kind).toBe('unroutable');
		expect(routeCommand(['COPY', a1!, a2!, 'DB', 3]).kind).toBe('unroutable');
		expect(routeCommand([b('NOSUCHCOMMAND'), a1!]).kind).toBe('unroutable');
	});
});

describe('routeTransaction', () => {
	it('sends a one-slot block to its slot', () => {
		const route = routeTransaction([
			['SET', a1!, 'v'],
			['INCR', a2!],
			['COPY', a1!, a2!, 'DB', 0],
		]);
		expect(route.kind).toBe('slot');
		if (route.kind !== 'slot') return;
		expect(route.slot).toBe(slotA);
		expect(route.commands.map(texts)).toEqual([['SET', '{a}1', 'v'], ['INCR', '{a}2'], ['COPY', '{a}1', '{a}2']]);
		expect(texts(route.keys)).toEqual(['{a}1', '{a}2']);
	});

	it('re-copies every key of a block across slots, even one a split could have handled', () => {
		expect(routeTransaction([['SET', a1!, 'v'], ['INCR', b1!]])).toMatchObject({kind: 'cross-slot', dropped: null});
		const route = routeTransaction([['SET', a1!, 'v'], ['DEL', a2!, c1!]]);
		expect(route.kind).toBe('cross-slot');
		if (route.kind === 'cross-slot') expect(texts(route.keys)).toEqual(['{a}1', '{a}2', '{c}1']);
	});

	it('says what it cannot run inside a block', () => {
		expect(routeTransaction([['SET', a1!, 'v'], ['FLUSHALL']])).toMatchObject({kind: 'cross-slot', dropped: 'FLUSHALL inside MULTI on a cluster'});
		expect(routeTransaction([['FUNCTION', 'FLUSH']]).kind).toBe('unroutable');
		expect(routeTransaction([['SWAPDB', 0, 0]])).toEqual({kind: 'noop'});
	});
});

describe('AckedWrites', () => {
	it('keeps the keys written within the window before a time', () => {
		const acked = new AckedWrites(1000, 100);
		acked.add(0, [a1!]);
		acked.add(1500, [b1!]);
		acked.add(2000, [c1!, a2!]);
		expect(texts(acked.recent(2200).keys)).toEqual(['{b}1', '{c}1', '{a}2']);
		expect(texts(acked.recent(2600).keys)).toEqual(['{c}1', '{a}2']);
		expect(acked.recent(2200).complete).toBe(true);
	});

	it('says when the count bound dropped writes that were still young', () => {
		const acked = new AckedWrites(10_000, 2);
		for (let at = 0; at < 5; at++) acked.add(at, [b(`k${at}`)]);
		const recent = acked.recent(5);
		expect(texts(recent.keys)).toEqual(['k3', 'k4']);
		expect(recent.complete).toBe(false);
		acked.clear();
		expect(acked.recent(5)).toEqual({keys: [], complete: true});
	});
});
