import {describe, expect, it} from 'vitest';
import {defaultMaxMonitorBuffer, monitorBufferLimit, monitorOutputMemory} from '../../source/capture/source-guard';

const MiB = 1024 * 1024;

describe('monitorBufferLimit', () => {
	it.each([
		// No maxmemory: the absolute ceiling.
		[100 * MiB, 0, 0, defaultMaxMonitorBuffer, defaultMaxMonitorBuffer],
		[100 * MiB, 0, 0, 8 * MiB, 8 * MiB],
		// Half of what was free before the buffer grew: (1000 - 600 + 0) / 2.
		[600 * MiB, 1000 * MiB, 0, defaultMaxMonitorBuffer, 200 * MiB],
		// The buffer is inside used_memory: (1000 - 700 + 100) / 2.
		[700 * MiB, 1000 * MiB, 100 * MiB, defaultMaxMonitorBuffer, 200 * MiB],
		// A source already at maxmemory (a full cache) still gets 1 MiB.
		[1000 * MiB, 1000 * MiB, 0, defaultMaxMonitorBuffer, MiB],
		[1200 * MiB, 1000 * MiB, 0, defaultMaxMonitorBuffer, MiB],
		// Plenty of room: capped by the ceiling.
		[MiB, 100_000 * MiB, 0, defaultMaxMonitorBuffer, defaultMaxMonitorBuffer],
	])('used %d, maxmemory %d, buffer %d, ceiling %d → %d', (used, max, buffer, ceiling, limit) => {
		expect(monitorBufferLimit(used, max, buffer, ceiling)).toBe(limit);
	});
});

describe('monitorOutputMemory', () => {
	const list = [
		'id=3 addr=127.0.0.1:50000 laddr=127.0.0.1:6379 fd=8 name=app age=1 idle=0 flags=N db=0 omem=999999 tot-mem=1',
		'id=4 addr=127.0.0.1:50001 laddr=127.0.0.1:6379 fd=9 name=keyferry-monitor age=1 idle=0 flags=O db=0 obl=0 oll=3 omem=61488 tot-mem=82000',
		'id=5 addr=127.0.0.1:50002 laddr=127.0.0.1:6379 fd=10 name=keyferry-monitor-x age=1 idle=0 flags=O db=0 omem=5 tot-mem=1',
		'',
	].join('\n');

	it('reads omem of the keyferry monitor only', () => {
		expect(monitorOutputMemory(list)).toBe(61488);
	});

	it('is null when the monitor is not listed', () => {
		expect(monitorOutputMemory(list.split('\n')[0]!)).toBeNull();
		expect(monitorOutputMemory('')).toBeNull();
	});
});
