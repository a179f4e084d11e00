import {describe, expect, it} from 'vitest';
import {replicaLinks, replicationRole} from '../../source/redis/replicas';
import {describeMove, diffOwners, formatRanges, parseClusterNodes, settle, toRanges, type NodesView} from '../../source/redis/topology-diff';
import {parseInfo} from '../../source/redis/info';

const a = 'aaaa000000000000000000000000000000000000';
const b = 'bbbb000000000000000000000000000000000000';
const c = 'cccc000000000000000000000000000000000000';
const r = 'dddd000000000000000000000000000000000000';

/** CLUSTER NODES as 127.0.0.1:7001 (`myself`) sees a 3-master cluster with one replica of 7002. */
function nodes(lines: {a?: string; b?: string; c?: string; replica?: string; myself?: 'a' | 'b' | 'c'} = {}): string {
	const me = (name: 'a' | 'b' | 'c') => (lines.myself ?? 'a') === name ? 'myself,' : '';
	return [
		`${a} 127.0.0.1:7001@17001 ${me('a')}master - 0 0 1 connected ${lines.a ?? '0-5460'}`,
		`${b} 127.0.0.1:7002@17002 ${me('b')}master - 0 0 2 connected ${lines.b ?? '5461-10922'}`,
		`${c} 127.0.0.1:7003@17003 ${me('c')}master - 0 0 3 connected ${lines.c ?? '10923-16383'}`,
		lines.replica ?? `${r} 127.0.0.1:7004@17004 slave ${b} 0 0 2 connected`,
		'',
	].join('\n');
}

const owners = (view: NodesView, ...slots: number[]) => slots.map((slot) => view.owners[slot]);

describe('parseClusterNodes', () => {
	it('reads who serves which slot, masters and their replicas', () => {
		const view = parseClusterNodes(nodes(), '127.0.0.1:7001', '127.0.0.1');
		expect(owners(view, 0, 5460, 5461, 10922, 10923, 16383)).toEqual(['127.0.0.1:7001', '127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7002', '127.0.0.1:7003', '127.0.0.1:7003']);
		expect(view.masters).toEqual(['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003']);
		expect([...view.replicasOf]).toEqual([['127.0.0.1:7002', ['127.0.0.1:7004']]]);
		expect(view.moving).toEqual([]);
	});

	it("reads the answering node's migrations (its own line only) and single slots", () => {
		const view = parseClusterNodes(nodes({a: `0-5459 5460 [5460->-${b}]`, b: `5461-10922 [7-<-${c}]`}), '127.0.0.1:7001', '127.0.0.1');
		expect(view.moving).toEqual([{slot: 5460, direction: 'migrating', peer: '127.0.0.1:7002'}]);
		expect(owners(view, 5460)).toEqual(['127.0.0.1:7001']);
	});

	it('takes an empty host as the host the node was reached at, and leaves failed replicas out', () => {
		const text = [`${a} :7001@17001 myself,master - 0 0 1 connected 0-16383`, `${r} 127.0.0.1:7004@17004 slave,fail ${a} 0 0 1 disconnected`].join('\n');
		const view = parseClusterNodes(text, '10.0.0.5:7001', '10.0.0.5');
		expect(owners(view, 0)).toEqual(['10.0.0.5:7001']);
		expect(view.replicasOf.size).toBe(0);
	});

	it('reads hostnames after the address and IPv6 addresses', () => {
		const text = `${a} [::1]:7001@17001,node-a myself,master - 0 0 1 connected 0-16383`;
		expect(owners(parseClusterNodes(text, '[::1]:7001', '::1'), 100)).toEqual(['[::1]:7001']);
	});
});

describe('settle', () => {
	const view = (text: string, node: string) => parseClusterNodes(text, node, '127.0.0.1');

	it('is settled when every node agrees and nothing moves', () => {
		const result = settle([view(nodes(), '127.0.0.1:7001'), view(nodes({myself: 'b'}), '127.0.0.1:7002')]);
		expect(result.settled).toBe(true);
	});

	it('is not settled while a migration is in flight, and says which slots go where', () => {
		const migrating = view(nodes({a: `0-5460 [100->-${c}] [101->-${c}] [300->-${c}]`}), '127.0.0.1:7001');
		const importing = view(nodes({myself: 'c', c: `10923-16383 [100-<-${a}] [101-<-${a}] [300-<-${a}]`}), '127.0.0.1:7003');
		expect(settle([migrating, importing])).toEqual({
			settled: false,
			reason: 'slot migration in progress: slots 100-101, 300 from 127.0.0.1:7001 to 127.0.0.1:7003',
			slots: [100, 101, 300],
		});
		expect(settle([importing])).toMatchObject({settled: false, reason: 'slot migration in progress: slots 100-101, 300 from 127.0.0.1:7001 to 127.0.0.1:7003'});
	});

	it('ignores a migration left over on a node that no longer serves the slot', () => {
		// 7001 still marks slot 100 migrating, but it already lost the slot to 7003.
		const stale = view(nodes({a: `0-99 101-5460 [100->-${c}]`, c: '100 10923-16383'}), '127.0.0.1:7001');
		expect(settle([stale]).settled).toBe(true);
	});

	it('is not settled while nodes disagree (a failover spreading by gossip)', () => {
		const before = view(nodes(), '127.0.0.1:7001');
		const after = view(nodes({myself: 'c', b: '', replica: `${r} 127.0.0.1:7004@17004 master - 0 0 4 connected 5461-10922`}), '127.0.0.1:7003');
		expect(settle([before, after])).toMatchObject({settled: false, slots: expect.arrayContaining([5461, 10922]), reason: expect.stringContaining('nodes disagree on who serves slots 5461-10922')});
	});

	it('is not settled when nobody answered', () => {
		expect(settle([])).toEqual({settled: false, reason: 'no source node answered CLUSTER NODES', slots: []});
	});
});

describe('diffOwners', () => {
	const parse = (text: string) => parseClusterNodes(text, '127.0.0.1:7001', '127.0.0.1').owners;

	it('finds nothing when nothing moved', () => {
		expect(diffOwners(parse(nodes()), parse(nodes()))).toEqual([]);
	});

	it('a failover: every slot of the old master goes to its replica', () => {
		const after = parse(nodes({b: '', replica: `${r} 127.0.0.1:7004@17004 master - 0 0 4 connected 5461-10922`}));
		const moves = diffOwners(parse(nodes()), after);
		expect(moves).toEqual([{from: '127.0.0.1:7002', to: '127.0.0.1:7004', ranges: [[5461, 10922]], count: 5462}]);
		expect(describeMove(moves[0]!)).toBe('5462 slots (5461-10922) moved from 127.0.0.1:7002 to 127.0.0.1:7004');
	});

	it('a reshard: ranges from two masters to a third, grouped by pair', () => {
		const after = parse(nodes({a: '0-99 200-5460', b: '5461-10921', c: '100-199 10922-16383'}));
		expect(diffOwners(parse(nodes()), after)).toEqual([
			{from: '127.0.0.1:7001', to: '127.0.0.1:7003', ranges: [[100, 199]], count: 100},
			{from: '127.0.0.1:7002', to: '127.0.0.1:7003', ranges: [[10922, 10922]], count: 1},
		]);
	});

	it('slots that lost their master', () => {
		const moves = diffOwners(parse(nodes()), parse(nodes({c: '10923-16000'})));
		expect(moves).toEqual([{from: '127.0.0.1:7003', to: undefined, ranges: [[16001, 16383]], count: 383}]);
		expect(describeMove(moves[0]!)).toBe('383 slots (16001-16383) of 127.0.0.1:7003 have no master now');
	});
});

describe('ranges', () => {
	it.each<[number[], Array<[number, number]>, string]>([
		[[], [], ''],
		[[5], [[5, 5]], '5'],
		[[3, 1, 2, 7, 9, 8, 8], [[1, 3], [7, 9]], '1-3, 7-9'],
	])('%j', (slots, ranges, text) => {
		expect(toRanges(slots)).toEqual(ranges);
		expect(formatRanges(ranges)).toBe(text);
	});

	it('shows at most eight ranges', () => {
		const many = Array.from({length: 10}, (_, index) => [index * 10, index * 10] as [number, number]);
		expect(formatRanges(many)).toBe('0, 10, 20, 30, 40, 50, 60, 70, and 2 more ranges');
	});
});

describe('replication facts', () => {
	it("reads a master's replicas from INFO replication", () => {
		const info = parseInfo(['# Replication', 'role:master', 'connected_slaves:2', 'slave0:ip=127.0.0.1,port=7004,state=online,offset=1200,lag=0', 'slave1:ip=10.0.0.2,port=7005,state=wait_bgsave,offset=0,lag=3', 'master_repl_offset:1234'].join('\r\n'));
		expect(replicaLinks(info)).toEqual([
			{host: '127.0.0.1', port: 7004, state: 'online', offset: 1200, lagSeconds: 0},
			{host: '10.0.0.2', port: 7005, state: 'wait_bgsave', offset: 0, lagSeconds: 3},
		]);
		expect(replicationRole(info)).toEqual({role: 'master', master: null, linkUp: true, offset: 1234});
	});

	it("reads a replica's link", () => {
		const up = parseInfo('role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7001\r\nmaster_link_status:up\r\nmaster_sync_in_progress:0\r\nslave_repl_offset:99\r\n');
		expect(replicationRole(up)).toEqual({role: 'replica', master: '127.0.0.1:7001', linkUp: true, offset: 99});
		const syncing = parseInfo('role:slave\r\nmaster_host:::1\r\nmaster_port:7001\r\nmaster_link_status:up\r\nmaster_sync_in_progress:1\r\n');
		expect(replicationRole(syncing)).toMatchObject({master: '[::1]:7001', linkUp: false});
	});
});
