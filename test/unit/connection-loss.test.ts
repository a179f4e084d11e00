import {describe, expect, it} from 'vitest';
import {killCommand, serverClient} from '../../source/redis/client-info';
import {judgeSilence, type SilenceFacts} from '../../source/redis/liveness';
import {lostWrite} from '../../source/replay/lost-write';

const limits = {probeAfterMs: 2000, deadAfterMs: 10_000, probeTimeoutMs: 5000};

describe('judgeSilence', () => {
	const facts = (now: number, silentSince: number | null, probeSentAt: number | null = null, probeAnsweredAt: number | null = null): SilenceFacts => ({
		now,
		silentSince,
		probeSentAt,
		probeAnsweredAt,
	});

	it.each([
		['nothing waits', facts(50_000, null), 'healthy'],
		['waiting briefly', facts(11_000, 10_000), 'healthy'],
		['silent long enough to ask', facts(12_000, 10_000), 'probe'],
		['a probe answered before the silence began proves nothing', facts(12_000, 10_000, 9_000, 9_000), 'probe'],
		['probe sent, no answer yet', facts(13_000, 10_000, 12_000), 'waiting'],
		['probe unanswered too long: replace it', facts(17_500, 10_000, 12_000), 'reprobe'],
		['the server answers the probe, silence still short', facts(15_000, 10_000, 12_000, 12_000), 'waiting'],
		['the server answers the probe, this connection silent 10 s: lost', facts(20_000, 10_000, 12_000, 12_000), 'dead'],
		['a PING sent after the silence began was answered, a newer one pends: lost', facts(20_000, 10_000, 14_000, 12_000), 'dead'],
		['the newest probe answered before this silence: ask again', facts(16_000, 13_000, 12_000, 12_000), 'probe'],
	] as const)('%s → %s', (_, input, verdict) => {
		expect(judgeSilence(input, limits)).toBe(verdict);
	});
});

describe('lostWrite', () => {
	const b = (text: string) => Buffer.from(text);
	const keys = (result: ReturnType<typeof lostWrite>) =>
		result.kind === 'keys' ? result.keys.map(({db, keys: found}) => `${db}:${found.map(String).join(',')}`) : result.kind === 'everything' ? `everything ${result.command}` : 'none';

	it.each([
		[['SET', 'k', 'v'], ['0:k']],
		[['RESTORE', b('k'), 0, b('payload'), 'REPLACE'], ['0:k']],
		[['MSET', 'a', '1', 'b', '2'], ['0:a,b']],
		[['DEL', 'a', 'b'], ['0:a,b']],
		[['MOVE', 'k', 3], ['0:k', '3:k']],
		[['COPY', 'a', 'b', 'DB', '2', 'REPLACE'], ['0:a,b', '2:b']],
		[['COPY', 'a', 'b'], ['0:a,b']],
		[['SELECT', 1], 'none'],
		[['MULTI'], 'none'],
		[['EXEC'], 'none'],
		[['GET', 'k'], 'none'],
		[['FLUSHALL'], 'everything FLUSHALL'],
		[['SWAPDB', 0, 1], 'everything SWAPDB'],
		[['NOSUCHCOMMAND', 'x'], 'everything NOSUCHCOMMAND'],
	] as const)('%j → %j', (command, expected) => {
		expect(keys(lostWrite(0, [...command]))).toEqual(expected);
	});
});

describe('serverClient and killCommand', () => {
	it('closes exactly the lost connection: by id and address, since ids start again after a restart', () => {
		const info = 'id=42 addr=127.0.0.1:50123 laddr=127.0.0.1:6379 fd=8 name=keyferry-marker age=3 idle=0 flags=N db=0\n';
		const client = serverClient(info);
		expect(client).toEqual({id: 42, addr: '127.0.0.1:50123'});
		expect(killCommand(client!)).toEqual(['CLIENT', 'KILL', 'ID', '42', 'ADDR', '127.0.0.1:50123']);
		expect(serverClient('id=7 addr=[::1]:6000 fd=1')).toEqual({id: 7, addr: '[::1]:6000'});
		expect(serverClient('name=x')).toBeNull();
	});
});
