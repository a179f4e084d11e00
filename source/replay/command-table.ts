/**
 * The replay command table: for every Redis 7.x / Valkey command, where its keys are and how a
 * MONITOR line of it is replayed on the target. Static on purpose: keyferry must classify lines
 * the same way whatever server versions it meets; `COMMAND INFO` is only asked about commands
 * missing here (see plan-command.ts).
 *
 * The Redis 7.0 rows were generated with scripts/gen-command-table.ts from redis-server 7.0.15 and
 * then curated; test/integration/replay-command-table.test.ts checks them against a live server.
 * Rows for newer servers (Redis 7.2–8.4, Valkey 8–9) are written from their command docs.
 *
 * Key specs follow Redis 7 key specs (`COMMAND INFO`), so positions are exact for cluster routing:
 * a begin search (an index, or a keyword searched from `startFrom`, backwards when negative) and a
 * find-keys rule (a range up to `lastKey`, relative to the end when negative, optionally only
 * `1/limit` of the remaining args; or a `numkeys` argument). SORT and MIGRATE need a procedure.
 */

export type Replay = 'drop' | 'verbatim' | 'expiry' | 'recopy' | 'block' | 'special';
export type DropReason = 'read' | 'admin' | 'script' | 'select' | 'noop';

export type BeginSearch = {index: number} | {keyword: string; startFrom: number};
export type FindKeys =
	| {range: {lastKey: number; step: number; limit: number}}
	| {keyNum: {keyNumIndex: number; firstKey: number; step: number}};
export interface KeySpec {
	begin: BeginSearch;
	find: FindKeys;
}

/** Commands whose keys no key spec can describe; key-positions.ts implements each like Redis does. */
export type KeysProcedure = 'sort' | 'migrate';

export interface CommandSpec {
	/** Lower case; `container|sub` for subcommands. */
	name: string;
	/** Redis arity: exact argument count including the name, or at least -arity when negative. */
	arity: number;
	/** The server's `write` flag. */
	write: boolean;
	keySpecs: readonly KeySpec[];
	keysProcedure?: KeysProcedure;
	/**
	 * drop: no effect on data; verbatim: deterministic write, applied as is; expiry: deterministic
	 * once relative expiries are made absolute; recopy: the effect is not in the line; block: may
	 * block, and the pop that ends the block is never shown; special: decided from the arguments.
	 */
	replay: Replay;
	/** Set when replay is 'drop'. */
	dropReason?: DropReason;
	/** Why the line cannot be reproduced, when replay is 'recopy'. */
	recopyReason?: string;
	/** Set on commands that only exist as `name subcommand`: how an unknown subcommand replays. */
	unknownSubcommands?: 'drop' | 'recopy';
}

/** One key at `index`. */
function key(index: number): KeySpec {
	return {begin: {index}, find: {range: {lastKey: 0, step: 1, limit: 0}}};
}

/** Keys from `index` to `lastKey` (relative to the end when negative), every `step` args. */
function keys(index: number, lastKey: number, step = 1, limit = 0): KeySpec {
	return {begin: {index}, find: {range: {lastKey, step, limit}}};
}

/** A numkeys argument at `index + keyNumIndex`, the keys starting `firstKey` args after it. */
function numkeys(index: number, firstKey = 1, step = 1, keyNumIndex = 0): KeySpec {
	return {begin: {index}, find: {keyNum: {keyNumIndex, firstKey, step}}};
}

/** Keys after a keyword searched from `startFrom` (from the end when negative). */
function keyword(word: string, startFrom: number, lastKey = 0, step = 1, limit = 0): KeySpec {
	return {begin: {keyword: word, startFrom}, find: {range: {lastKey, step, limit}}};
}

function drop(name: string, arity: number, dropReason: DropReason, keySpecs: readonly KeySpec[] = [], write = false): CommandSpec {
	return {name, arity, write, keySpecs, replay: 'drop', dropReason};
}

function read(name: string, arity: number, keySpecs: readonly KeySpec[] = []): CommandSpec {
	return drop(name, arity, 'read', keySpecs);
}

/** Server, connection and cluster management: nothing to replay on the target. */
function admin(name: string, arity: number, keySpecs: readonly KeySpec[] = [], write = false): CommandSpec {
	return drop(name, arity, 'admin', keySpecs, write);
}

/** Pub/sub: the target has no subscribers of the source's channels. */
function noop(name: string, arity: number, keySpecs: readonly KeySpec[] = []): CommandSpec {
	return drop(name, arity, 'noop', keySpecs);
}

/** EVAL-style lines: the `lua` lines that follow carry the effects. */
function script(name: string, arity: number, keySpecs: readonly KeySpec[]): CommandSpec {
	return drop(name, arity, 'script', keySpecs);
}

function verbatim(name: string, arity: number, keySpecs: readonly KeySpec[]): CommandSpec {
	return {name, arity, write: true, keySpecs, replay: 'verbatim'};
}

function expiry(name: string, arity: number, keySpecs: readonly KeySpec[]): CommandSpec {
	return {name, arity, write: true, keySpecs, replay: 'expiry'};
}

function recopy(name: string, arity: number, keySpecs: readonly KeySpec[], recopyReason: string): CommandSpec {
	return {name, arity, write: true, keySpecs, replay: 'recopy', recopyReason};
}

function block(name: string, arity: number, keySpecs: readonly KeySpec[]): CommandSpec {
	return {name, arity, write: true, keySpecs, replay: 'block'};
}

function special(name: string, arity: number, write: boolean, keySpecs: readonly KeySpec[], keysProcedure?: KeysProcedure): CommandSpec {
	return {name, arity, write, keySpecs, replay: 'special', ...(keysProcedure ? {keysProcedure} : {})};
}

function container(name: string, arity: number, unknownSubcommands: 'drop' | 'recopy'): CommandSpec {
	return {name, arity, write: false, keySpecs: [], replay: 'drop', dropReason: 'admin', unknownSubcommands};
}

/** Redis 7.0 (checked against COMMAND INFO by the integration test). */
const redis70: readonly CommandSpec[] = [
	container('acl', -2, 'drop'),
	admin('acl|cat', -2),
	admin('acl|deluser', -3),
	admin('acl|dryrun', -4),
	admin('acl|genpass', -2),
	admin('acl|getuser', 3),
	admin('acl|help', 2),
	admin('acl|list', 2),
	admin('acl|load', 2),
	admin('acl|log', -2),
	admin('acl|save', 2),
	admin('acl|setuser', -3),
	admin('acl|users', 2),
	admin('acl|whoami', 2),
	verbatim('append', 3, [key(1)]),
	admin('asking', 1),
	admin('auth', -2),
	admin('bgrewriteaof', 1),
	admin('bgsave', -1),
	read('bitcount', -2, [key(1)]),
	verbatim('bitfield', -2, [key(1)]),
	read('bitfield_ro', -2, [key(1)]),
	verbatim('bitop', -4, [key(2), keys(3, -1)]),
	read('bitpos', -3, [key(1)]),
	block('blmove', 6, [key(1), key(2)]),
	block('blmpop', -5, [numkeys(2)]),
	block('blpop', -3, [keys(1, -2)]),
	block('brpop', -3, [keys(1, -2)]),
	block('brpoplpush', 4, [key(1), key(2)]),
	block('bzmpop', -5, [numkeys(2)]),
	block('bzpopmax', -3, [keys(1, -2)]),
	block('bzpopmin', -3, [keys(1, -2)]),
	container('client', -2, 'drop'),
	admin('client|caching', 3),
	admin('client|getname', 2),
	admin('client|getredir', 2),
	admin('client|help', 2),
	admin('client|id', 2),
	admin('client|info', 2),
	admin('client|kill', -3),
	admin('client|list', -2),
	admin('client|no-evict', 3),
	admin('client|pause', -3),
	admin('client|reply', 3),
	admin('client|setname', 3),
	admin('client|tracking', -3),
	admin('client|trackinginfo', 2),
	admin('client|unblock', -3),
	admin('client|unpause', 2),
	container('cluster', -2, 'drop'),
	admin('cluster|addslots', -3),
	admin('cluster|addslotsrange', -4),
	admin('cluster|bumpepoch', 2),
	admin('cluster|count-failure-reports', 3),
	admin('cluster|countkeysinslot', 3),
	admin('cluster|delslots', -3),
	admin('cluster|delslotsrange', -4),
	admin('cluster|failover', -2),
	admin('cluster|flushslots', 2),
	admin('cluster|forget', 3),
	admin('cluster|getkeysinslot', 4),
	admin('cluster|help', 2),
	admin('cluster|info', 2),
	admin('cluster|keyslot', 3),
	admin('cluster|links', 2),
	admin('cluster|meet', -4),
	admin('cluster|myid', 2),
	admin('cluster|nodes', 2),
	admin('cluster|replicas', 3),
	admin('cluster|replicate', 3),
	admin('cluster|reset', -2),
	admin('cluster|saveconfig', 2),
	admin('cluster|set-config-epoch', 3),
	admin('cluster|setslot', -4),
	admin('cluster|shards', 2),
	admin('cluster|slaves', 3),
	admin('cluster|slots', 2),
	container('command', -1, 'drop'),
	admin('command|count', 2),
	admin('command|docs', -2),
	admin('command|getkeys', -4),
	admin('command|getkeysandflags', -4),
	admin('command|help', 2),
	admin('command|info', -2),
	admin('command|list', -2),
	container('config', -2, 'drop'),
	admin('config|get', -3),
	admin('config|help', 2),
	admin('config|resetstat', 2),
	admin('config|rewrite', 2),
	admin('config|set', -4),
	special('copy', -3, true, [key(1), key(2)]),
	read('dbsize', 1),
	admin('debug', -2),
	verbatim('decr', 2, [key(1)]),
	verbatim('decrby', 3, [key(1)]),
	verbatim('del', -2, [keys(1, -1)]),
	special('discard', 1, false, []),
	read('dump', 2, [key(1)]),
	admin('echo', 2),
	script('eval', -3, [numkeys(2)]),
	script('eval_ro', -3, [numkeys(2)]),
	script('evalsha', -3, [numkeys(2)]),
	script('evalsha_ro', -3, [numkeys(2)]),
	special('exec', 1, false, []),
	read('exists', -2, [keys(1, -1)]),
	expiry('expire', -3, [key(1)]),
	expiry('expireat', -3, [key(1)]),
	read('expiretime', 2, [key(1)]),
	admin('failover', -1),
	script('fcall', -3, [numkeys(2)]),
	script('fcall_ro', -3, [numkeys(2)]),
	special('flushall', -1, true, []),
	special('flushdb', -1, true, []),
	container('function', -2, 'recopy'),
	verbatim('function|delete', 3, []),
	admin('function|dump', 2),
	verbatim('function|flush', -2, []),
	admin('function|help', 2),
	admin('function|kill', 2),
	admin('function|list', -2),
	verbatim('function|load', -3, []),
	verbatim('function|restore', -3, []),
	admin('function|stats', 2),
	verbatim('geoadd', -5, [key(1)]),
	read('geodist', -4, [key(1)]),
	read('geohash', -2, [key(1)]),
	read('geopos', -2, [key(1)]),
	special('georadius', -6, true, [key(1), keyword('STORE', 6), keyword('STOREDIST', 6)]),
	read('georadius_ro', -6, [key(1)]),
	special('georadiusbymember', -5, true, [key(1), keyword('STORE', 5), keyword('STOREDIST', 5)]),
	read('georadiusbymember_ro', -5, [key(1)]),
	read('geosearch', -7, [key(1)]),
	verbatim('geosearchstore', -8, [key(1), key(2)]),
	read('get', 2, [key(1)]),
	read('getbit', 3, [key(1)]),
	verbatim('getdel', 2, [key(1)]),
	expiry('getex', -2, [key(1)]),
	read('getrange', 4, [key(1)]),
	verbatim('getset', 3, [key(1)]),
	verbatim('hdel', -3, [key(1)]),
	admin('hello', -1),
	read('hexists', 3, [key(1)]),
	read('hget', 3, [key(1)]),
	read('hgetall', 2, [key(1)]),
	verbatim('hincrby', 4, [key(1)]),
	verbatim('hincrbyfloat', 4, [key(1)]),
	read('hkeys', 2, [key(1)]),
	read('hlen', 2, [key(1)]),
	read('hmget', -3, [key(1)]),
	verbatim('hmset', -4, [key(1)]),
	read('hrandfield', -2, [key(1)]),
	read('hscan', -3, [key(1)]),
	verbatim('hset', -4, [key(1)]),
	verbatim('hsetnx', 4, [key(1)]),
	read('hstrlen', 3, [key(1)]),
	read('hvals', 2, [key(1)]),
	verbatim('incr', 2, [key(1)]),
	verbatim('incrby', 3, [key(1)]),
	verbatim('incrbyfloat', 3, [key(1)]),
	admin('info', -1),
	read('keys', 2),
	admin('lastsave', 1),
	container('latency', -2, 'drop'),
	admin('latency|doctor', 2),
	admin('latency|graph', 3),
	admin('latency|help', 2),
	admin('latency|histogram', -2),
	admin('latency|history', 3),
	admin('latency|latest', 2),
	admin('latency|reset', -2),
	read('lcs', -3, [keys(1, 1)]),
	read('lindex', 3, [key(1)]),
	verbatim('linsert', 5, [key(1)]),
	read('llen', 2, [key(1)]),
	verbatim('lmove', 5, [key(1), key(2)]),
	verbatim('lmpop', -4, [numkeys(1)]),
	read('lolwut', -1),
	verbatim('lpop', -2, [key(1)]),
	read('lpos', -3, [key(1)]),
	verbatim('lpush', -3, [key(1)]),
	verbatim('lpushx', -3, [key(1)]),
	read('lrange', 4, [key(1)]),
	verbatim('lrem', 4, [key(1)]),
	verbatim('lset', 4, [key(1)]),
	verbatim('ltrim', 4, [key(1)]),
	container('memory', -2, 'drop'),
	admin('memory|doctor', 2),
	admin('memory|help', 2),
	admin('memory|malloc-stats', 2),
	admin('memory|purge', 2),
	admin('memory|stats', 2),
	read('memory|usage', -3, [key(2)]),
	read('mget', -2, [keys(1, -1)]),
	special('migrate', -6, true, [], 'migrate'),
	container('module', -2, 'drop'),
	admin('module|help', 2),
	admin('module|list', 2),
	admin('module|load', -3),
	admin('module|loadex', -3),
	admin('module|unload', 3),
	admin('monitor', 1),
	special('move', 3, true, [key(1)]),
	verbatim('mset', -3, [keys(1, -1, 2)]),
	verbatim('msetnx', -3, [keys(1, -1, 2)]),
	special('multi', 1, false, []),
	container('object', -2, 'drop'),
	read('object|encoding', 3, [key(2)]),
	read('object|freq', 3, [key(2)]),
	admin('object|help', 2),
	read('object|idletime', 3, [key(2)]),
	read('object|refcount', 3, [key(2)]),
	verbatim('persist', 2, [key(1)]),
	expiry('pexpire', -3, [key(1)]),
	expiry('pexpireat', -3, [key(1)]),
	read('pexpiretime', 2, [key(1)]),
	verbatim('pfadd', -2, [key(1)]),
	read('pfcount', -2, [keys(1, -1)]),
	admin('pfdebug', 3, [key(2)], true),
	verbatim('pfmerge', -2, [key(1), keys(2, -1)]),
	admin('pfselftest', 1),
	admin('ping', -1),
	expiry('psetex', 4, [key(1)]),
	noop('psubscribe', -2),
	admin('psync', -3),
	read('pttl', 2, [key(1)]),
	noop('publish', 3),
	container('pubsub', -2, 'drop'),
	noop('pubsub|channels', -2),
	admin('pubsub|help', 2),
	noop('pubsub|numpat', 2),
	noop('pubsub|numsub', -2),
	noop('pubsub|shardchannels', -2),
	noop('pubsub|shardnumsub', -2),
	noop('punsubscribe', -1),
	admin('quit', -1),
	read('randomkey', 1),
	admin('readonly', 1),
	admin('readwrite', 1),
	verbatim('rename', 3, [key(1), key(2)]),
	verbatim('renamenx', 3, [key(1), key(2)]),
	admin('replconf', -1),
	admin('replicaof', 3),
	admin('reset', 1),
	expiry('restore', -4, [key(1)]),
	expiry('restore-asking', -4, [key(1)]),
	admin('role', 1),
	verbatim('rpop', -2, [key(1)]),
	verbatim('rpoplpush', 3, [key(1), key(2)]),
	verbatim('rpush', -3, [key(1)]),
	verbatim('rpushx', -3, [key(1)]),
	verbatim('sadd', -3, [key(1)]),
	admin('save', 1),
	read('scan', -2),
	read('scard', 2, [key(1)]),
	container('script', -2, 'drop'),
	admin('script|debug', 3),
	admin('script|exists', -3),
	admin('script|flush', -2),
	admin('script|help', 2),
	admin('script|kill', 2),
	admin('script|load', 3),
	read('sdiff', -2, [keys(1, -1)]),
	verbatim('sdiffstore', -3, [key(1), keys(2, -1)]),
	drop('select', 2, 'select'),
	expiry('set', -3, [key(1)]),
	verbatim('setbit', 4, [key(1)]),
	expiry('setex', 4, [key(1)]),
	verbatim('setnx', 3, [key(1)]),
	verbatim('setrange', 4, [key(1)]),
	admin('shutdown', -1),
	read('sinter', -2, [keys(1, -1)]),
	read('sintercard', -3, [numkeys(1)]),
	verbatim('sinterstore', -3, [key(1), keys(2, -1)]),
	read('sismember', 3, [key(1)]),
	admin('slaveof', 3),
	container('slowlog', -2, 'drop'),
	admin('slowlog|get', -2),
	admin('slowlog|help', 2),
	admin('slowlog|len', 2),
	admin('slowlog|reset', 2),
	read('smembers', 2, [key(1)]),
	read('smismember', -3, [key(1)]),
	verbatim('smove', 4, [key(1), key(2)]),
	special('sort', -2, true, [], 'sort'),
	read('sort_ro', -2, [key(1)]),
	recopy('spop', -2, [key(1)], 'SPOP removes random members'),
	noop('spublish', 3),
	read('srandmember', -2, [key(1)]),
	verbatim('srem', -3, [key(1)]),
	read('sscan', -3, [key(1)]),
	noop('ssubscribe', -2),
	read('strlen', 2, [key(1)]),
	noop('subscribe', -2),
	read('substr', 4, [key(1)]),
	read('sunion', -2, [keys(1, -1)]),
	verbatim('sunionstore', -3, [key(1), keys(2, -1)]),
	noop('sunsubscribe', -1),
	special('swapdb', 3, true, []),
	admin('sync', 1),
	admin('time', 1),
	read('touch', -2, [keys(1, -1)]),
	read('ttl', 2, [key(1)]),
	read('type', 2, [key(1)]),
	verbatim('unlink', -2, [keys(1, -1)]),
	noop('unsubscribe', -1),
	admin('unwatch', 1),
	admin('wait', 3),
	admin('watch', -2, [keys(1, -1)]),
	verbatim('xack', -4, [key(1)]),
	special('xadd', -5, true, [key(1)]),
	recopy('xautoclaim', -6, [key(1)], 'XAUTOCLAIM depends on idle times'),
	recopy('xclaim', -6, [key(1)], 'XCLAIM depends on idle times'),
	verbatim('xdel', -3, [key(1)]),
	container('xgroup', -2, 'recopy'),
	verbatim('xgroup|create', -5, [key(2)]),
	verbatim('xgroup|createconsumer', 5, [key(2)]),
	verbatim('xgroup|delconsumer', 5, [key(2)]),
	verbatim('xgroup|destroy', 4, [key(2)]),
	admin('xgroup|help', 2),
	verbatim('xgroup|setid', -5, [key(2)]),
	container('xinfo', -2, 'drop'),
	read('xinfo|consumers', 4, [key(2)]),
	read('xinfo|groups', 3, [key(2)]),
	admin('xinfo|help', 2),
	read('xinfo|stream', -3, [key(2)]),
	read('xlen', 2, [key(1)]),
	read('xpending', -3, [key(1)]),
	read('xrange', -4, [key(1)]),
	read('xread', -4, [keyword('STREAMS', 1, -1, 1, 2)]),
	special('xreadgroup', -7, true, [keyword('STREAMS', 4, -1, 1, 2)]),
	read('xrevrange', -4, [key(1)]),
	verbatim('xsetid', -3, [key(1)]),
	special('xtrim', -4, true, [key(1)]),
	verbatim('zadd', -4, [key(1)]),
	read('zcard', 2, [key(1)]),
	read('zcount', 4, [key(1)]),
	read('zdiff', -3, [numkeys(1)]),
	verbatim('zdiffstore', -4, [key(1), numkeys(2)]),
	verbatim('zincrby', 4, [key(1)]),
	read('zinter', -3, [numkeys(1)]),
	read('zintercard', -3, [numkeys(1)]),
	verbatim('zinterstore', -4, [key(1), numkeys(2)]),
	read('zlexcount', 4, [key(1)]),
	verbatim('zmpop', -4, [numkeys(1)]),
	read('zmscore', -3, [key(1)]),
	verbatim('zpopmax', -2, [key(1)]),
	verbatim('zpopmin', -2, [key(1)]),
	read('zrandmember', -2, [key(1)]),
	read('zrange', -4, [key(1)]),
	read('zrangebylex', -4, [key(1)]),
	read('zrangebyscore', -4, [key(1)]),
	verbatim('zrangestore', -5, [key(1), key(2)]),
	read('zrank', 3, [key(1)]),
	verbatim('zrem', -3, [key(1)]),
	verbatim('zremrangebylex', 4, [key(1)]),
	verbatim('zremrangebyrank', 4, [key(1)]),
	verbatim('zremrangebyscore', 4, [key(1)]),
	read('zrevrange', -4, [key(1)]),
	read('zrevrangebylex', -4, [key(1)]),
	read('zrevrangebyscore', -4, [key(1)]),
	read('zrevrank', 3, [key(1)]),
	read('zscan', -3, [key(1)]),
	read('zscore', 3, [key(1)]),
	read('zunion', -3, [numkeys(1)]),
	verbatim('zunionstore', -4, [key(1), numkeys(2)]),
];

/**
 * Commands of newer servers, from their command docs (src/commands/*.json). Where a command's
 * syntax is still settling (DELEX), the arity is the least it can take, so lines still classify.
 */
const newer: readonly CommandSpec[] = [
	// Redis 7.2
	admin('waitaof', 4),
	admin('client|no-touch', 3),
	admin('client|setinfo', 4),
	admin('cluster|myshardid', 2),
	// Redis 7.4 and Valkey 9.0: hash field expiration
	expiry('hexpire', -6, [key(1)]),
	expiry('hpexpire', -6, [key(1)]),
	expiry('hexpireat', -6, [key(1)]),
	expiry('hpexpireat', -6, [key(1)]),
	verbatim('hpersist', -5, [key(1)]),
	read('httl', -5, [key(1)]),
	read('hpttl', -5, [key(1)]),
	read('hexpiretime', -5, [key(1)]),
	read('hpexpiretime', -5, [key(1)]),
	// Redis 8.0 (HGETEX and HSETEX also Valkey 9.0)
	verbatim('hgetdel', -5, [key(1)]),
	expiry('hgetex', -5, [key(1)]),
	expiry('hsetex', -6, [key(1)]),
	// Redis 8.2
	verbatim('xackdel', -6, [key(1)]),
	verbatim('xdelex', -5, [key(1)]),
	admin('cluster|slot-stats', -4),
	// Redis 8.4
	expiry('msetex', -4, [numkeys(1, 1, 2)]),
	verbatim('delex', -2, [key(1)]),
	read('digest', 2, [key(1)]),
	// Valkey 8.0–9.0
	admin('client|capa', -3),
	admin('client|import-source', 3),
	container('commandlog', -2, 'drop'),
	admin('commandlog|get', 4),
	admin('commandlog|help', 2),
	admin('commandlog|len', 3),
	admin('commandlog|reset', 3),
	verbatim('delifeq', 3, [key(1)]),
];

export const commandTable: readonly CommandSpec[] = [...redis70, ...newer];

const byName = new Map(commandTable.map((spec) => [spec.name, spec]));

/** The row for an exact table name ('get', 'xgroup|create', or a container such as 'client'). */
export function commandByName(name: string): CommandSpec | undefined {
	return byName.get(name);
}

/** Command names are ASCII; anything longer than any real name cannot match and is not lowered. */
export function commandName(arg: Buffer): string {
	return arg.length > 64 ? '' : arg.toString('latin1').toLowerCase();
}

/**
 * The row for a command line, resolving `container subcommand`. Undefined when the command, or
 * the subcommand of a known container, is not in the table (a container alone is not a command).
 */
export function lookupCommand(args: Buffer[]): CommandSpec | undefined {
	const first = args[0];
	if (first === undefined) return undefined;
	const name = commandName(first);
	const spec = byName.get(name);
	if (spec?.unknownSubcommands === undefined) return spec;
	const sub = args[1];
	return sub === undefined ? undefined : byName.get(`${name}|${commandName(sub)}`);
}
