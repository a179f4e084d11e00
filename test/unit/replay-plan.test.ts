import {describe, expect, it} from 'vitest';
import {planCommand, type Plan, type PlanContext} from '../../source/replay/plan-command';

const line = (...args: string[]): Buffer[] => args.map((arg) => Buffer.from(arg, 'latin1'));
const context: PlanContext = {tsMs: 1_700_000_000_000, skewMs: 0};
const plan = (...args: string[]): Plan => planCommand(line(...args), context);

/** Plans with Buffers turned into strings, for readable expectations. */
function readable(value: Plan): unknown {
	return JSON.parse(JSON.stringify(value, (_, field: unknown) => {
		if (field && typeof field === 'object' && (field as {type?: string}).type === 'Buffer') return Buffer.from((field as {data: number[]}).data).toString('latin1');
		return field;
	}));
}
const planned = (...args: string[]) => readable(plan(...args));

describe('drops', () => {
	it.each([
		['GET', 'k'],
		['SRANDMEMBER', 's', '3'],
		['RANDOMKEY'],
		['PFCOUNT', 'h1', 'h2'],
		['TOUCH', 'a', 'b'],
		['OBJECT', 'FREQ', 'k'],
		['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$'],
		['DUMP', 'k'],
		['SCAN', '0', 'COUNT', '100'],
		['DBSIZE'],
		['SORT', 'k', 'BY', 'w_*', 'GET', '#'],
		['SORT_RO', 'k'],
		['GEORADIUS', 'g', '15', '37', '200', 'km', 'WITHDIST'],
		['ZRANGE', 'z', '0', '-1'],
		['LCS', 'a', 'b'],
	])('%s is a read', (...args) => {
		expect(plan(...args)).toEqual({action: 'drop', reason: 'read'});
	});

	it.each([
		['AUTH', '(redacted)'],
		['HELLO', '3'],
		['CLIENT', 'SETNAME', 'x'],
		['client', 'setinfo', 'LIB-NAME', 'redis-py'],
		['CLIENT', 'CAPA', 'redirect'],
		['CLIENT', 'SOMEDAY'],
		['CONFIG', 'GET', 'maxmemory'],
		['PING'],
		['ECHO', 'x'],
		['QUIT'],
		['RESET'],
		['WATCH', 'k'],
		['UNWATCH'],
		['READONLY'],
		['ASKING'],
		['CLUSTER', 'SLOTS'],
		['COMMAND'],
		['COMMAND', 'DOCS', 'get'],
		['INFO', 'replication'],
		['WAIT', '1', '0'],
		['WAITAOF', '1', '0', '0'],
		['SCRIPT', 'LOAD', 'return 1'],
		['FUNCTION', 'LIST'],
		['MEMORY', 'STATS'],
		['COMMANDLOG', 'GET', '10', 'slow'],
	])('%s is admin', (...args) => {
		expect(plan(...args)).toEqual({action: 'drop', reason: 'admin'});
	});

	it.each([['EVAL', 'return 1', '1', 'k'], ['EVALSHA', 'abc', '0'], ['EVAL_RO', 's', '0'], ['EVALSHA_RO', 's', '0'], ['FCALL', 'f', '1', 'k', 'a'], ['FCALL_RO', 'f', '0']])(
		'%s leaves its effects to the lua lines',
		(...args) => {
			expect(plan(...args)).toEqual({action: 'drop', reason: 'script'});
		},
	);

	it('drops SELECT (each line carries its db) and pub/sub', () => {
		expect(plan('SELECT', '3')).toEqual({action: 'drop', reason: 'select'});
		expect(plan('PUBLISH', 'ch', 'm')).toEqual({action: 'drop', reason: 'noop'});
		expect(plan('SPUBLISH', 'ch', 'm')).toEqual({action: 'drop', reason: 'noop'});
	});
});

describe('verbatim writes', () => {
	it.each([
		[['DEL', 'a', 'b'], ['a', 'b']],
		[['INCR', 'c'], ['c']],
		[['HSET', 'h', 'f', 'v'], ['h']],
		[['LPUSH', 'l', 'x'], ['l']],
		[['RENAME', 'a', 'b'], ['a', 'b']],
		[['RENAMENX', 'a', 'b'], ['a', 'b']],
		[['MSET', 'a', '1', 'b', '2'], ['a', 'b']],
		[['UNLINK', 'a'], ['a']],
		[['SORT', 'k', 'LIMIT', '0', '5', 'STORE', 'dst'], ['k', 'dst']],
		[['GEORADIUS', 'g', '15', '37', '200', 'km', 'STORE', 'dst'], ['g', 'dst']],
		[['GEORADIUSBYMEMBER', 'g', 'm', '5', 'km', 'STOREDIST', 'dst'], ['g', 'dst']],
		[['GEOSEARCHSTORE', 'dst', 'g', 'FROMMEMBER', 'm', 'BYRADIUS', '5', 'km'], ['dst', 'g']],
		[['ZRANGESTORE', 'dst', 'z', '0', '-1'], ['dst', 'z']],
		[['ZUNIONSTORE', 'dst', '2', 'a', 'b'], ['dst', 'a', 'b']],
		[['SINTERSTORE', 'dst', 'a', 'b'], ['dst', 'a', 'b']],
		[['LMPOP', '2', 'a', 'b', 'LEFT'], ['a', 'b']],
		[['ZMPOP', '1', 'z', 'MIN', 'COUNT', '2'], ['z']],
		[['PFADD', 'h', 'x'], ['h']],
		[['PFMERGE', 'dst', 'a'], ['dst', 'a']],
		[['SETBIT', 'b', '7', '1'], ['b']],
		[['BITOP', 'OR', 'dst', 'a', 'b'], ['dst', 'a', 'b']],
		[['INCRBYFLOAT', 'f', '0.1'], ['f']],
		[['PERSIST', 'k'], ['k']],
		[['XADD', 's', '1-1', 'f', 'v'], ['s']],
		[['XADD', 's', 'NOMKSTREAM', 'MAXLEN', '=', '10', '5-0', 'f', 'v'], ['s']],
		[['XADD', 's', 'MINID', '3', '5-1', 'f', 'v'], ['s']],
		[['XTRIM', 's', 'MAXLEN', '100'], ['s']],
		[['XTRIM', 's', 'MINID', '=', '5-0'], ['s']],
		[['XACK', 's', 'g', '1-1'], ['s']],
		[['XDEL', 's', '1-1'], ['s']],
		[['XSETID', 's', '5-0'], ['s']],
		[['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'], ['s']],
		[['XGROUP', 'SETID', 's', 'g', '0'], ['s']],
		[['XGROUP', 'CREATECONSUMER', 's', 'g', 'c'], ['s']],
		[['XGROUP', 'DELCONSUMER', 's', 'g', 'c'], ['s']],
		[['XGROUP', 'DESTROY', 's', 'g'], ['s']],
		[['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '10', 'STREAMS', 's', '>'], ['s']],
		[['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 's', '0'], ['s']],
		[['FUNCTION', 'LOAD', '#!lua name=lib\n'], []],
		[['FUNCTION', 'FLUSH'], []],
		[['HPERSIST', 'h', 'FIELDS', '1', 'f'], ['h']],
		[['HGETDEL', 'h', 'FIELDS', '1', 'f'], ['h']],
		[['DELIFEQ', 'lock', 'token'], ['lock']],
		[['DELEX', 'lock', 'IFEQ', 'token'], ['lock']],
	])('%j is applied as is', (args, keys) => {
		const input = line(...args);
		const result = planCommand(input, context);
		expect(readable(result)).toEqual({action: 'apply', args, keys});
		if (result.action === 'apply') expect(result.args).toBe(input);
	});

	it.each([
		[['XADD', 's', 'MAXLEN', '=', '22', 'LIMIT', '10', '5-0', 'f', 'v'], ['XADD', 's', 'MAXLEN', '=', '22', '5-0', 'f', 'v']],
		[['xadd', 's', 'NOMKSTREAM', 'MINID', '=', '3-0', 'LIMIT', '100', '5-1', 'f', 'v'], ['xadd', 's', 'NOMKSTREAM', 'MINID', '=', '3-0', '5-1', 'f', 'v']],
		[['XTRIM', 's', 'MAXLEN', '=', '40', 'LIMIT', '10'], ['XTRIM', 's', 'MAXLEN', '=', '40']],
	])("%j (a replica's feed: an approximate trim made exact) is applied without its LIMIT", (args, applied) => {
		expect(readable(planCommand(line(...args), context))).toEqual({action: 'apply', args: applied, keys: ['s']});
	});

	it('keeps binary arguments byte for byte', () => {
		const key = Buffer.from([0xe2, 0x82, 0xac, 0x00]);
		const value = Buffer.from([0xff, 0xfe, 0x0d, 0x0a]);
		const result = planCommand([Buffer.from('sAdD'), key, value], context);
		expect(result).toEqual({action: 'apply', args: [Buffer.from('sAdD'), key, value], keys: [key]});
		if (result.action === 'apply') {
			expect(result.args[2]).toBe(value);
			expect(result.keys[0]).toBe(key);
		}
	});
});

describe('expiries', () => {
	it('applies the absolute form', () => {
		expect(planned('SET', 'k', 'v', 'EX', '10')).toEqual({action: 'apply', args: ['SET', 'k', 'v', 'PXAT', '1700000010000'], keys: ['k']});
		expect(planned('SETEX', 'k', '10', 'v')).toEqual({action: 'apply', args: ['SET', 'k', 'v', 'PXAT', '1700000010000'], keys: ['k']});
		expect(planned('EXPIRE', 'k', '10', 'NX')).toEqual({action: 'apply', args: ['PEXPIREAT', 'k', '1700000010000', 'NX'], keys: ['k']});
		expect(planned('GETEX', 'k', 'PX', '5')).toEqual({action: 'apply', args: ['GETEX', 'k', 'PXAT', '1700000000005'], keys: ['k']});
		expect(planned('MSETEX', '2', 'a', '1', 'b', '2', 'PX', '5')).toEqual({
			action: 'apply',
			args: ['MSETEX', '2', 'a', '1', 'b', '2', 'PXAT', '1700000000005'],
			keys: ['a', 'b'],
		});
	});

	it('adds the skew', () => {
		const result = planCommand(line('PEXPIREAT', 'k', '1800000000000'), {tsMs: 1, skewMs: -12});
		expect(readable(result)).toEqual({action: 'apply', args: ['PEXPIREAT', 'k', '1799999999988'], keys: ['k']});
	});

	it('re-copies the key when the line cannot be rewritten', () => {
		expect(plan('SET', 'k', 'v', 'EX', 'soon')).toMatchObject({action: 'recopy', keys: [Buffer.from('k')]});
		expect(plan('SET', 'k', 'v', 'NEWOPTION', 'x')).toMatchObject({action: 'recopy', keys: [Buffer.from('k')]});
		expect(plan('RESTORE', 'k', '-1', 'payload')).toMatchObject({action: 'recopy', keys: [Buffer.from('k')]});
	});
});

describe('re-copies', () => {
	it.each([
		[['SPOP', 's'], ['s']],
		[['spop', 's', '3'], ['s']],
		[['XADD', 's', '*', 'f', 'v'], ['s']],
		[['XADD', 's', '1700000000000-*', 'f', 'v'], ['s']],
		[['XADD', 's', 'MAXLEN', '~', '1000', '5-0', 'f', 'v'], ['s']],
		[['XTRIM', 's', 'MAXLEN', '~', '1000', 'LIMIT', '100'], ['s']],
		[['XTRIM', 's', 'SOMEDAY', '1'], ['s']],
		[['XAUTOCLAIM', 's', 'g', 'c', '3600000', '0-0'], ['s']],
		[['XCLAIM', 's', 'g', 'c', '3600000', '1-1'], ['s']],
		[['XREADGROUP', 'GROUP', 'g', 'c', 'CLAIM', '5000', 'STREAMS', 's', '>'], ['s']],
	])('%j', (args, keys) => {
		expect(readable(planCommand(line(...args), context))).toMatchObject({action: 'recopy', keys});
	});

	it('asks the source about commands missing from the table', () => {
		expect(plan('NOSUCHCOMMAND', 'a')).toMatchObject({action: 'recopy', keys: null});
		expect(plan('JSON.SET', 'doc', '$', '{}')).toMatchObject({action: 'recopy', keys: null});
		expect(plan('VADD', 'v', 'VALUES', '1', '0.5', 'e')).toMatchObject({action: 'recopy', keys: null});
		expect(plan('XGROUP', 'FUTURE', 's', 'g')).toMatchObject({action: 'recopy', keys: null});
		expect(plan('FUNCTION', 'FUTURE')).toMatchObject({action: 'recopy', keys: null});
		expect(planCommand([], context)).toMatchObject({action: 'recopy', keys: null});
	});

	it('asks the source when a known command has an argument count it cannot have', () => {
		expect(plan('GET', 'a', 'b')).toMatchObject({action: 'recopy', keys: null});
		expect(plan('SET', 'k')).toMatchObject({action: 'recopy', keys: null});
	});
});

describe('blocking commands', () => {
	it.each([
		[['BLPOP', 'a', 'b', '0'], ['a', 'b'], null],
		[['BRPOP', 'a', '1.5'], ['a'], 1500],
		[['BRPOPLPUSH', 'a', 'b', '2'], ['a', 'b'], 2000],
		[['BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', '0.01'], ['a', 'b'], 10],
		[['BLMPOP', '0.1', '2', 'a', 'b', 'LEFT', 'COUNT', '2'], ['a', 'b'], 100],
		[['BZPOPMIN', 'z1', 'z2', '0'], ['z1', 'z2'], null],
		[['BZPOPMAX', 'z', '3'], ['z'], 3000],
		[['BZMPOP', '0', '1', 'z', 'MIN'], ['z'], null],
		[['BLPOP', 'a', 'nope'], ['a'], null],
		[['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '250', 'STREAMS', 'a', 'b', '>', '>'], ['a', 'b'], 250],
		[['xreadgroup', 'group', 'g', 'c', 'block', '0', 'noack', 'streams', 's', '>'], ['s'], null],
	])('%j blocks on %j for %s ms', (args, keys, timeoutMs) => {
		expect(readable(planCommand(line(...args), context))).toMatchObject({action: 'block', keys, timeoutMs});
	});

	it('applies them where they cannot block (MULTI, scripts)', () => {
		const nonBlocking = {...context, nonBlocking: true};
		expect(readable(planCommand(line('BLPOP', 'a', '0'), nonBlocking))).toEqual({action: 'apply', args: ['BLPOP', 'a', '0'], keys: ['a']});
		expect(readable(planCommand(line('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '5', 'STREAMS', 's', '>'), nonBlocking))).toMatchObject({action: 'apply'});
	});
});

describe('special commands', () => {
	it('marks transactions', () => {
		expect(plan('MULTI')).toEqual({action: 'transaction', kind: 'multi'});
		expect(plan('exec')).toEqual({action: 'transaction', kind: 'exec'});
		expect(plan('Discard')).toEqual({action: 'transaction', kind: 'discard'});
	});

	it('flushes', () => {
		expect(planned('FLUSHDB', 'ASYNC')).toEqual({action: 'flush', scope: 'db', args: ['FLUSHDB', 'ASYNC']});
		expect(planned('flushall')).toEqual({action: 'flush', scope: 'all', args: ['flushall']});
	});

	it('swaps dbs', () => {
		expect(planned('SWAPDB', '0', '1')).toEqual({action: 'swapdb', a: 0, b: 1, args: ['SWAPDB', '0', '1']});
		expect(plan('SWAPDB', 'x', '1')).toEqual({action: 'drop', reason: 'noop'});
		expect(plan('SWAPDB', '0', '-1')).toEqual({action: 'drop', reason: 'noop'});
	});

	it('moves keys between dbs', () => {
		expect(planned('MOVE', 'k', '2')).toEqual({action: 'move', key: 'k', toDb: 2, args: ['MOVE', 'k', '2']});
		expect(plan('MOVE', 'k', 'two')).toEqual({action: 'drop', reason: 'noop'});
	});

	it('copies keys', () => {
		expect(planned('COPY', 'a', 'b')).toEqual({action: 'copy', from: 'a', to: 'b', toDb: null, args: ['COPY', 'a', 'b']});
		expect(planned('copy', 'a', 'b', 'db', '3', 'replace')).toEqual({action: 'copy', from: 'a', to: 'b', toDb: 3, args: ['copy', 'a', 'b', 'db', '3', 'replace']});
		expect(plan('COPY', 'a', 'b', 'DB', 'x')).toEqual({action: 'drop', reason: 'noop'});
		expect(planned('COPY', 'a', 'b', 'SOMEDAY')).toMatchObject({action: 'recopy', keys: ['b']});
	});

	it('migrates keys away from the source', () => {
		expect(planned('MIGRATE', 'h', '6379', 'k', '0', '5000')).toEqual({action: 'migrate', keys: ['k'], copy: false});
		expect(planned('MIGRATE', 'h', '6379', '', '0', '5000', 'COPY', 'AUTH', 'copy', 'KEYS', 'a', 'b')).toEqual({action: 'migrate', keys: ['a', 'b'], copy: true});
		expect(planned('MIGRATE', 'h', '6379', '', '0', '5000', 'AUTH2', 'copy', 'copy', 'KEYS', 'copy')).toEqual({action: 'migrate', keys: ['copy'], copy: false});
	});
});
