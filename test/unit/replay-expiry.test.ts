import {describe, expect, it} from 'vitest';
import {rewriteExpiry, type ExpiryClock} from '../../source/replay/expiry-rewrite';

const line = (...args: string[]): Buffer[] => args.map((arg) => Buffer.from(arg, 'latin1'));
const text = (args: Buffer[] | null): string[] | null => args?.map((arg) => arg.toString('latin1')) ?? null;
const clock: ExpiryClock = {tsMs: 1_700_000_000_000.4, skewMs: 0};
const skewed: ExpiryClock = {tsMs: 1_700_000_000_000.6, skewMs: 250};
const rewrite = (context: ExpiryClock, ...args: string[]) => text(rewriteExpiry(args[0]!.toLowerCase(), line(...args), context));

describe('SET', () => {
	it('turns EX and PX into PXAT at the line time plus skew', () => {
		expect(rewrite(clock, 'SET', 'k', 'v', 'EX', '10')).toEqual(['SET', 'k', 'v', 'PXAT', '1700000010000']);
		expect(rewrite(clock, 'set', 'k', 'v', 'px', '1500')).toEqual(['set', 'k', 'v', 'PXAT', '1700000001500']);
		expect(rewrite(skewed, 'SET', 'k', 'v', 'Ex', '10')).toEqual(['SET', 'k', 'v', 'PXAT', '1700000010251']);
	});

	it('adds the skew to EXAT and PXAT', () => {
		expect(rewrite(skewed, 'SET', 'k', 'v', 'EXAT', '1700000100')).toEqual(['SET', 'k', 'v', 'PXAT', '1700000100250']);
		expect(rewrite(skewed, 'SET', 'k', 'v', 'PXAT', '1700000100123')).toEqual(['SET', 'k', 'v', 'PXAT', '1700000100373']);
		expect(rewrite({tsMs: 5, skewMs: -40}, 'SET', 'k', 'v', 'pxat', '1700000100123')).toEqual(['SET', 'k', 'v', 'PXAT', '1700000100083']);
	});

	it('keeps the other options where they are', () => {
		expect(rewrite(clock, 'SET', 'k', 'v', 'NX', 'GET', 'EX', '10')).toEqual(['SET', 'k', 'v', 'NX', 'GET', 'PXAT', '1700000010000']);
		expect(rewrite(clock, 'SET', 'k', 'v', 'EX', '10', 'xx')).toEqual(['SET', 'k', 'v', 'PXAT', '1700000010000', 'xx']);
		expect(rewrite(clock, 'SET', 'k', 'v', 'IFEQ', 'EX', 'EX', '10')).toEqual(['SET', 'k', 'v', 'IFEQ', 'EX', 'PXAT', '1700000010000']);
	});

	it('returns the line itself when there is no expiry', () => {
		const args = line('SET', 'k', 'v', 'KEEPTTL', 'XX');
		expect(rewriteExpiry('set', args, clock)).toBe(args);
		const plain = line('SET', 'k', 'v');
		expect(rewriteExpiry('set', plain, clock)).toBe(plain);
	});

	it('never re-encodes the value', () => {
		const value = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x0a]);
		const args = [Buffer.from('SET'), Buffer.from('k'), value, Buffer.from('EX'), Buffer.from('1')];
		const out = rewriteExpiry('set', args, clock)!;
		expect(out[2]).toBe(value);
	});

	it.each([
		['EX', '0'],
		['EX', '-1'],
		['PX', '0'],
		['EX', 'ten'],
		['EX', '010'],
		['EX', '9223372036854776'],
		['PX', '9223372036854775000'],
		['EXAT', '0'],
		['EX'],
		['EX', '10', 'PX', '10'],
		['EX', '10', 'KEEPTTL', 'EX', '1'],
		['FUTURE', 'x'],
		['IFEQ'],
	])('cannot rewrite SET k v %s …', (...options) => {
		expect(rewrite(clock, 'SET', 'k', 'v', ...options)).toBeNull();
	});

	it('is exact beyond 2^53', () => {
		expect(rewrite({tsMs: 0, skewMs: 0}, 'SET', 'k', 'v', 'PXAT', '9007199254740993')).toEqual(['SET', 'k', 'v', 'PXAT', '9007199254740993']);
		expect(rewrite({tsMs: 1, skewMs: 0}, 'SET', 'k', 'v', 'EX', '9223372036854775')).toEqual(['SET', 'k', 'v', 'PXAT', '9223372036854775001']);
	});
});

describe('SETEX, PSETEX', () => {
	it('become SET PXAT', () => {
		expect(rewrite(clock, 'SETEX', 'k', '10', 'v')).toEqual(['SET', 'k', 'v', 'PXAT', '1700000010000']);
		expect(rewrite(skewed, 'psetex', 'k', '1500', 'v')).toEqual(['SET', 'k', 'v', 'PXAT', '1700000001751']);
	});

	it('refuse what the server refuses', () => {
		expect(rewrite(clock, 'SETEX', 'k', '0', 'v')).toBeNull();
		expect(rewrite(clock, 'PSETEX', 'k', '-5', 'v')).toBeNull();
		expect(rewrite(clock, 'SETEX', 'k', '1.5', 'v')).toBeNull();
	});
});

describe('GETEX', () => {
	it('makes EX/PX absolute and adds skew to EXAT/PXAT', () => {
		expect(rewrite(clock, 'GETEX', 'k', 'EX', '10')).toEqual(['GETEX', 'k', 'PXAT', '1700000010000']);
		expect(rewrite(clock, 'GETEX', 'k', 'px', '10')).toEqual(['GETEX', 'k', 'PXAT', '1700000000010']);
		expect(rewrite(skewed, 'GETEX', 'k', 'EXAT', '1800000000')).toEqual(['GETEX', 'k', 'PXAT', '1800000000250']);
		expect(rewrite(skewed, 'GETEX', 'k', 'PXAT', '1800000000000')).toEqual(['GETEX', 'k', 'PXAT', '1800000000250']);
	});

	it('keeps PERSIST and the plain form', () => {
		expect(rewrite(clock, 'GETEX', 'k', 'PERSIST')).toEqual(['GETEX', 'k', 'PERSIST']);
		expect(rewrite(clock, 'GETEX', 'k')).toEqual(['GETEX', 'k']);
		expect(rewrite(clock, 'GETEX', 'k', 'EX', '1', 'PX', '2')).toBeNull();
	});
});

describe('EXPIRE family', () => {
	it('becomes PEXPIREAT with the condition kept', () => {
		expect(rewrite(clock, 'EXPIRE', 'k', '10')).toEqual(['PEXPIREAT', 'k', '1700000010000']);
		expect(rewrite(clock, 'expire', 'k', '10', 'nx')).toEqual(['PEXPIREAT', 'k', '1700000010000', 'nx']);
		expect(rewrite(skewed, 'PEXPIRE', 'k', '10', 'GT')).toEqual(['PEXPIREAT', 'k', '1700000000261', 'GT']);
		expect(rewrite(skewed, 'EXPIREAT', 'k', '1800000000', 'XX', 'GT')).toEqual(['PEXPIREAT', 'k', '1800000000250', 'XX', 'GT']);
		expect(rewrite(skewed, 'PEXPIREAT', 'k', '1800000000001', 'LT')).toEqual(['PEXPIREAT', 'k', '1800000000251', 'LT']);
	});

	it('keeps negative and zero times (the key is deleted on both sides)', () => {
		expect(rewrite(clock, 'EXPIRE', 'k', '-5')).toEqual(['PEXPIREAT', 'k', '1699999995000']);
		expect(rewrite(clock, 'EXPIRE', 'k', '0')).toEqual(['PEXPIREAT', 'k', '1700000000000']);
		expect(rewrite({tsMs: 0, skewMs: 0}, 'PEXPIREAT', 'k', '-1')).toEqual(['PEXPIREAT', 'k', '-1']);
	});

	it.each([
		['EXPIRE', 'k', 'x'],
		['EXPIRE', 'k', '10', 'NX', 'XX'],
		['EXPIRE', 'k', '10', 'GT', 'LT'],
		['EXPIRE', 'k', '10', 'SOON'],
		['EXPIRE', 'k', '9223372036854776'],
		['PEXPIRE', 'k', '9223372036854775807'],
		['EXPIREAT', 'k', '-9223372036854776'],
	])('refuses %s %s %s …', (...args) => {
		expect(rewrite(clock, ...args)).toBeNull();
	});
});

describe('RESTORE', () => {
	const payload = Buffer.from([0x00, 0x03, 0x66, 0x6f, 0x6f, 0x0a, 0x00, 0xff, 0xfe]);
	const restore = (context: ExpiryClock, ...rest: string[]) => rewriteExpiry('restore', [Buffer.from('RESTORE'), Buffer.from('k'), ...line(...rest.slice(0, 1)), payload, ...line(...rest.slice(1))], context);

	it('turns a relative ttl into ABSTTL', () => {
		const out = restore(clock, '5000', 'REPLACE')!;
		expect(text(out)?.filter((_, i) => i !== 3)).toEqual(['RESTORE', 'k', '1700000005000', 'REPLACE', 'ABSTTL']);
		expect(out[3]).toBe(payload);
	});

	it('adds skew to an ABSTTL ttl and keeps a ttl of 0', () => {
		expect(text(restore(skewed, '1800000000000', 'absttl', 'IDLETIME', '10'))?.filter((_, i) => i !== 3)).toEqual([
			'RESTORE', 'k', '1800000000250', 'absttl', 'IDLETIME', '10',
		]);
		const none = [Buffer.from('RESTORE'), Buffer.from('k'), Buffer.from('0'), payload, Buffer.from('FREQ'), Buffer.from('5')];
		expect(rewriteExpiry('restore', none, skewed)).toBe(none);
	});

	it('refuses negative ttls and unknown options', () => {
		expect(restore(clock, '-1')).toBeNull();
		expect(restore(clock, '100', 'SOMEDAY')).toBeNull();
		expect(restore(clock, '100', 'IDLETIME')).toBeNull();
	});
});

describe('hash field expiration (Redis 7.4+, Valkey 9)', () => {
	it('turns HEXPIRE-style commands into HPEXPIREAT', () => {
		expect(rewrite(clock, 'HEXPIRE', 'h', '10', 'NX', 'FIELDS', '2', 'a', 'b')).toEqual(['HPEXPIREAT', 'h', '1700000010000', 'NX', 'FIELDS', '2', 'a', 'b']);
		expect(rewrite(clock, 'HPEXPIRE', 'h', '10', 'FIELDS', '1', 'a')).toEqual(['HPEXPIREAT', 'h', '1700000000010', 'FIELDS', '1', 'a']);
		expect(rewrite(skewed, 'HEXPIREAT', 'h', '1800000000', 'FIELDS', '1', 'a')).toEqual(['HPEXPIREAT', 'h', '1800000000250', 'FIELDS', '1', 'a']);
		expect(rewrite(skewed, 'HPEXPIREAT', 'h', '1800000000000', 'FIELDS', '1', 'a')).toEqual(['HPEXPIREAT', 'h', '1800000000250', 'FIELDS', '1', 'a']);
		expect(rewrite(clock, 'HEXPIRE', 'h', '-1', 'FIELDS', '1', 'a')).toBeNull();
	});

	it('rewrites HSETEX and HGETEX options but never field names or values', () => {
		expect(rewrite(clock, 'HSETEX', 'h', 'FNX', 'EX', '10', 'FIELDS', '1', 'EX', '5')).toEqual(['HSETEX', 'h', 'FNX', 'PXAT', '1700000010000', 'FIELDS', '1', 'EX', '5']);
		expect(rewrite(clock, 'HSETEX', 'h', 'FIELDS', '1', 'PX', '5', 'PX', '20')).toEqual(['HSETEX', 'h', 'FIELDS', '1', 'PX', '5', 'PXAT', '1700000000020']);
		expect(rewrite(clock, 'HSETEX', 'h', 'KEEPTTL', 'FIELDS', '1', 'f', 'v')).toEqual(['HSETEX', 'h', 'KEEPTTL', 'FIELDS', '1', 'f', 'v']);
		expect(rewrite(clock, 'HGETEX', 'h', 'PX', '100', 'FIELDS', '2', 'EX', 'f')).toEqual(['HGETEX', 'h', 'PXAT', '1700000000100', 'FIELDS', '2', 'EX', 'f']);
		expect(rewrite(clock, 'HGETEX', 'h', 'PERSIST', 'FIELDS', '1', 'f')).toEqual(['HGETEX', 'h', 'PERSIST', 'FIELDS', '1', 'f']);
		expect(rewrite(clock, 'HSETEX', 'h', 'EX', '10', 'FIELDS', '2', 'f', 'v')).toBeNull();
		expect(rewrite(clock, 'HGETEX', 'h', 'EX', '10', 'FIELDS', 'x', 'f')).toBeNull();
	});
});

describe('MSETEX (Redis 8.4)', () => {
	it('rewrites the shared expiry and skips the key value pairs', () => {
		expect(rewrite(clock, 'MSETEX', '2', 'a', 'EX', 'b', 'PX', 'NX', 'EX', '10')).toEqual(['MSETEX', '2', 'a', 'EX', 'b', 'PX', 'NX', 'PXAT', '1700000010000']);
		expect(rewrite(clock, 'MSETEX', '1', 'a', '1', 'KEEPTTL')).toEqual(['MSETEX', '1', 'a', '1', 'KEEPTTL']);
		expect(rewrite(clock, 'MSETEX', '3', 'a', '1')).toBeNull();
	});
});
