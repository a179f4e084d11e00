import {describe, expect, it} from 'vitest';
import {formatGapLine, parseMonitorLine} from '../../source/capture/monitor-parser';
import {ChangedKeys} from '../../source/cutover/changed-keys';
import {keyFromPrintable} from '../../source/cutover/rollback-preview';
import {printableKey} from '../../source/verify/discrepancy';

const line = (text: string, client = '127.0.0.1:5000', db = 0) => parseMonitorLine(Buffer.from(`+1700000000.000001 [${db} ${client}] ${text}`, 'latin1'));
const listed = (changed: ChangedKeys) => changed.keys().map(({db, key}) => `${db}:${key.toString('latin1')}`);

describe('ChangedKeys: the keys the application changed on the target, from reverse-journal lines', () => {
	it('collects written keys once each, in first-seen order, and ignores reads and admin lines', () => {
		const changed = new ChangedKeys();
		for (const text of ['"SET" "a" "1"', '"GET" "b"', '"HSET" "h" "f" "v"', '"SET" "a" "2"', '"PING"', '"MSET" "x" "1" "y" "2"', '"MULTI"', '"EXEC"']) changed.feed(line(text));
		expect(listed(changed)).toEqual(['0:a', '0:h', '0:x', '0:y']);
		expect(changed.incomplete).toBeNull();
	});

	it('keeps dbs apart and follows MOVE and COPY to their destination db', () => {
		const changed = new ChangedKeys();
		changed.feed(line('"SET" "k" "v"', '127.0.0.1:5000', 2));
		changed.feed(line('"MOVE" "m" "3"'));
		changed.feed(line('"COPY" "src" "dst" "DB" "4"'));
		expect(listed(changed)).toEqual(['2:k', '0:m', '3:m', '4:dst']);
	});

	it('counts keys whose effect only a re-copy reproduces (XADD *, SPOP) and the lines scripts ran', () => {
		const changed = new ChangedKeys();
		changed.feed(line('"XADD" "s" "*" "f" "v"'));
		changed.feed(line('"SPOP" "set"'));
		changed.feed(line('"EVAL" "redis.call(\'set\', KEYS[1], 1)" "1" "fromlua"'));
		changed.feed(line('"set" "fromlua" "1"', 'lua'));
		expect(listed(changed)).toEqual(['0:s', '0:set', '0:fromlua']);
	});

	it("skips keyferry's own connections", () => {
		const changed = new ChangedKeys(new Set(['127.0.0.1:7777']));
		changed.feed(line('"SET" "replayed" "1"', '127.0.0.1:7777'));
		changed.feed(line('"SET" "app" "1"'));
		expect(listed(changed)).toEqual(['0:app']);
	});

	it('returns the keys each line changed', () => {
		const changed = new ChangedKeys();
		expect(changed.feed(line('"DEL" "a" "b"')).map(({key}) => key.toString())).toEqual(['a', 'b']);
		expect(changed.feed(line('"GET" "a"'))).toEqual([]);
	});

	it('leaves unknown commands to the server (COMMAND GETKEYS)', () => {
		const changed = new ChangedKeys();
		changed.feed(line('"BF.ADD" "bloom" "x"'));
		expect(changed.unknown.map(({args}) => args[0]!.toString())).toEqual(['BF.ADD']);
	});

	it.each([
		['a capture gap', parseMonitorLine(formatGapLine({fromMs: 1000, toMs: 1500, reason: 'connection reset'}).subarray(0, -2)), /missed 500 ms/],
		['FLUSHALL', line('"FLUSHALL"'), /FLUSHALL ran on the target/],
		['SWAPDB', line('"SWAPDB" "0" "1"'), /SWAPDB ran on the target/],
		['an unreadable line', parseMonitorLine(Buffer.from('garbage')), /unreadable line/],
	])('is incomplete after %s', (_name, entry, reason) => {
		const changed = new ChangedKeys();
		changed.feed(entry);
		expect(changed.incomplete).toMatch(reason);
	});
});

describe('keyFromPrintable', () => {
	it('reverses printableKey for every byte value', () => {
		const key = Buffer.from(Array.from({length: 256}, (_, i) => i));
		expect(keyFromPrintable(printableKey(key)).equals(key)).toBe(true);
		expect(keyFromPrintable('user:1').toString()).toBe('user:1');
	});
});
