import './setup';
import {describe, expect, it} from 'vitest';
import {CopyProgress} from '../../source/ui/panes/copy-progress';
import {DiscrepanciesPane} from '../../source/ui/panes/discrepancies-pane';
import {FlowSummary} from '../../source/ui/panes/flow-summary';
import {Footer} from '../../source/ui/panes/footer';
import {Header} from '../../source/ui/panes/header';
import {HealthLines} from '../../source/ui/panes/health-line';
import {LogPane} from '../../source/ui/panes/log-pane';
import {QueuePane} from '../../source/ui/panes/queue-pane';
import {StageBar} from '../../source/ui/panes/stage-bar';
import {ThroughputPane} from '../../source/ui/panes/throughput-pane';
import {notify} from '../../source/ui/ui-store';
import {renderPane, useFrozenClock} from './render-console';
import {populatedStore, withFeed} from './fixtures/populated-store';

useFrozenClock();

describe('Header', () => {
	it('shows both servers, versions, the migration id and the elapsed time', async () => {
		const view = await renderPane(<Header width={100} />, populatedStore(), {columns: 100});
		expect(view.frame()).toMatchInlineSnapshot(`"keyferry  redis://10.0.1.15:6379 7.2.4 → redis://10.0.2.40:6379 7.4.1        mig-3f9a2c1e · 00:12:34"`);
	});

	it('fits the header of a real run at 80 columns', async () => {
		const store = populatedStore('preflight', {
			migrationId: 'kf-20261122-0912-a1b2',
			source: {label: 'redis://127.0.0.1:16401', version: 'redis 7.0.15'},
			target: {label: 'redis://127.0.0.1:16402', version: 'valkey 8.1.0'},
		});
		const view = await renderPane(<Header width={80} />, store);
		expect(view.frame()).toMatchInlineSnapshot(`"keyferry  127.0.0.1:16401 7.0.15 → 127.0.0.1:16402 valkey 8.1.0         00:12:34"`);
	});

	it('drops the scheme, then cuts labels in the middle on a narrow terminal', async () => {
		const store = populatedStore('copy', {
			source: {label: 'redis://cache-primary.eu-west-1.internal.example.com:6379/0', version: '7.2.4'},
			target: {label: 'rediss://new-cache.eu-west-1.internal.example.com:6380/0', version: 'valkey 8.1.0'},
		});
		const view = await renderPane(<Header width={80} />, store);
		expect(view.frame()).toMatchInlineSnapshot(`"keyferry  cache-pri…om:6379/0 7.2.4 → tls:new-c…om:6380/0 valkey 8.1.0  00:12:34"`);
		expect(view.frame().length).toBeLessThanOrEqual(80);
	});
});

describe('StageBar', () => {
	it('marks done, current and next stages', async () => {
		const view = await renderPane(<StageBar width={80} />, populatedStore('sync'));
		expect(view.frame()).toMatchInlineSnapshot(`"✓ preflight › ✓ capture › ✓ copy › ● sync › ○ verify › ○ cutover › ○ done"`);
	});

	it('shows a ready stage and a failed one', async () => {
		const store = populatedStore('verify', {stageStatus: 'ready'});
		const view = await renderPane(<StageBar width={80} />, store);
		expect(view.frame()).toContain('◆ verify');
		store.setState({stageStatus: 'failed'});
		await view.press();
		expect(view.frame()).toContain('✗ verify');
	});

	it('branches to rollback after cutover', async () => {
		const view = await renderPane(<StageBar width={100} />, populatedStore('rollback', {completedStages: ['preflight', 'capture', 'copy', 'sync', 'verify', 'cutover']}), {columns: 100});
		expect(view.frame()).toMatchInlineSnapshot(`"✓ preflight › ✓ capture › ✓ copy › ✓ sync › ✓ verify › ✓ cutover › ● rollback"`);
	});

	it('folds the done stages into a count when narrow', async () => {
		const view = await renderPane(<StageBar width={50} />, populatedStore('verify'), {columns: 50});
		expect(view.frame()).toMatchInlineSnapshot(`"✓ 4 done › ● verify › ○ cutover"`);
	});
});

describe('CopyProgress', () => {
	it('shows keys, percent, rate and ETA while copying', async () => {
		const view = await renderPane(<CopyProgress width={80} />, populatedStore('copy'));
		expect(view.frame()).toMatchInlineSnapshot(`"copy █████████████████░░░░░░░░░░░  62.3%  1.23M/1.98M keys · 12.3k/s · ETA 1m01s"`);
	});

	it('shows a pause and a rate limit', async () => {
		const view = await renderPane(<CopyProgress width={100} />, populatedStore('copy', {copy: {paused: true, rateLimit: 5000}}), {columns: 100});
		expect(view.frame()).toMatchInlineSnapshot(`"copy ███████████████████████░░░░░░░░░░░░░░  62.3%  1,234,567/1,980,000 keys · paused · limit 5.00k/s"`);
	});

	it('waits before the copy and is full after it', async () => {
		const store = populatedStore('capture');
		store.setState((s) => ({stats: {...s.stats, keysCopied: 0}}));
		const view = await renderPane(<CopyProgress width={80} />, store);
		expect(view.frame()).toMatchInlineSnapshot(`"copy ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  ~1.98M keys · starts after capture"`);
		store.setState((s) => ({stage: 'sync', completedStages: [...s.completedStages, 'copy'], stats: {...s.stats, keysCopied: 1_980_000}}));
		await view.press();
		expect(view.frame()).toMatchInlineSnapshot(`"copy ██████████████████████████████████ 100.0%  1.98M keys copied · 37 re-copied"`);
	});
});

describe('ThroughputPane', () => {
	it('draws a sparkline per series with its rate', async () => {
		const view = await renderPane(<ThroughputPane width={46} sparkRows={1} />, populatedStore());
		expect(view.frame()).toMatchInlineSnapshot(`
			"╭─ throughput per second · last 4m ──────────╮
			│ captured ▂▂▄▇██▇▅▃▂▂▃▅▇██▇▄▂▂▂▃▆   4.20k/s │
			│ applied  ▂▂▄▇██▇▅▃▂▂▃▅▇██▇▄▂▂▂▃▆   4.10k/s │
			│ copied   ▄▂▂▂▃▄▆▇███▇▅▄▂▂▂▂▄▅▇██   12.3k/s │
			╰────────────────────────────────────────────╯"
		`);
	});

	it('draws two rows per series with totals when tall', async () => {
		const view = await renderPane(<ThroughputPane width={60} sparkRows={2} />, populatedStore());
		expect(view.frame()).toMatchInlineSnapshot(`
			"╭─ throughput per second · last 3m ────────────────────────╮
			│ captured ███▇▅▃          ▃▅▇███▇▆▄▁         ▂▄   4.20k/s │
			│          ███████▆▄▃▂▂▃▄▆███████████▇▅▃▂▂▂▃▅▇██ 4.81M tot │
			│ applied  ███▇▅▃          ▂▅▆███▇▆▄▁         ▁▄   4.10k/s │
			│          ███████▆▄▃▂▂▃▄▆███████████▇▅▃▂▂▂▃▅▇██ 4.81M tot │
			│ copied      ▂▄▅▆▇████▇▆▅▃▁            ▂▃▅▆▇███   12.3k/s │
			│          ▅▇████████████████▆▅▄▃▃▃▃▄▅▆█████████ 1.23M tot │
			╰──────────────────────────────────────────────────────────╯"
		`);
	});

	it('starts empty', async () => {
		const store = populatedStore('capture', {history: {captured: [], applied: [], copied: [], lag: []}});
		const view = await renderPane(<ThroughputPane width={46} sparkRows={1} />, store);
		expect(view.frame()).toContain('│ captured ');
	});
});

describe('QueuePane', () => {
	it('shows lag in events and seconds, the journal and the trend', async () => {
		const view = await renderPane(<QueuePane width={34} rows={3} />, populatedStore());
		expect(view.frame()).toMatchInlineSnapshot(`
			"╭─ queue replay lag ─────────────╮
			│ lag       1,234 ev · 0.4 s     │
			│ journal   12.4 MiB             │
			│ trend     █▇▂▂▆█▅▂▃▇ ↑ growing │
			╰────────────────────────────────╯"
		`);
	});

	it('shows more detail when tall', async () => {
		const view = await renderPane(<QueuePane width={40} rows={6} />, populatedStore());
		expect(view.frame()).toMatchInlineSnapshot(`
			"╭─ queue replay lag ───────────────────╮
			│ lag       1,234 events               │
			│ behind    0.4 s                      │
			│ journal   12.4 MiB                   │
			│ re-copies 37                         │
			│ trend     ▃██▃   ▂██▄   ▁▇           │
			│           ████▅▂▄████▅▂▃██ ↑ growing │
			╰──────────────────────────────────────╯"
		`);
	});

	it('calls a draining queue draining', async () => {
		const store = populatedStore('sync', {history: {captured: [], applied: [], copied: [], lag: [900, 850, 800, 700, 600, 300, 200, 120, 40, 0]}});
		const view = await renderPane(<QueuePane width={40} rows={3} />, store);
		expect(view.frame()).toContain('↓ draining');
	});

	it('calls an empty queue caught up', async () => {
		const store = populatedStore('sync');
		store.setState((s) => ({stats: {...s.stats, lag: 0, lagSeconds: 0}}));
		const view = await renderPane(<QueuePane width={40} rows={3} />, store);
		expect(view.frame()).toContain('→ caught up');
	});
});

describe('FlowSummary', () => {
	it('folds both panes into two lines', async () => {
		const view = await renderPane(<FlowSummary />, populatedStore());
		expect(view.frame()).toMatchInlineSnapshot(`
			"rates captured 4.20k/s · applied 4.10k/s · copied 12.3k/s
			queue lag 1,234 ev · 0.4 s ↑ growing · journal 12.4 MiB"
		`);
	});
});

describe('DiscrepanciesPane', () => {
	it('lists the newest first with kind, db, key and a short diff', async () => {
		const view = await renderPane(<DiscrepanciesPane width={80} rows={3} />, withFeed(populatedStore('verify')));
		expect(view.frame()).toMatchInlineSnapshot(`
			"╭─ discrepancies 3 found · 1.2% of 250 samples · d list ───────────────────────╮
			│ missing db2  cart:77                      missing on target (hash, 4 fields) │
			│ ttl     db0  session:8f2c                 ttl 120 s != none                  │
			│ value   db0  user:1001:profile            field email: "a@old.example" != "… │
			╰──────────────────────────────────────────────────────────────────────────────╯"
		`);
	});

	it('says so when every sample matched, and before any sample', async () => {
		const store = populatedStore('verify');
		store.setState((s) => ({stats: {...s.stats, discrepancies: 0}}));
		const view = await renderPane(<DiscrepanciesPane width={80} rows={1} />, store);
		expect(view.frame()).toContain('none: every sampled key matches');
		store.setState((s) => ({stats: {...s.stats, samples: 0}}));
		await view.press();
		expect(view.frame()).toContain('no samples yet');
		expect(view.frame()).toContain('verification samples keys once the copy is done');
	});

	it('escapes control characters in keys and diffs', async () => {
		const store = withFeed(populatedStore('verify'), [{key: 'evil\x1b[2Jkey', db: 0, kind: 'value', diff: 'a\nb'}]);
		const view = await renderPane(<DiscrepanciesPane width={80} rows={1} />, store);
		expect(view.frame()).toContain('evil\\x1b[2Jkey');
		expect(view.frame()).toContain('a\\x0ab');
		expect(view.frame()).not.toContain('\x1b[2J');
	});
});

describe('HealthLines', () => {
	it('shows latency, memory, evictions since preflight and the monitor buffer', async () => {
		const view = await renderPane(<HealthLines lines={2} />, populatedStore());
		expect(view.frame()).toMatchInlineSnapshot(`
			"source    0.4 ms · mem 2.0 GiB / 4.0 GiB · evicted 0 · monitor buf 256 KiB
			target    0.6 ms · mem 819 MiB (no limit) · evicted 0"
		`);
	});

	it('folds into one line', async () => {
		const view = await renderPane(<HealthLines lines={1} />, populatedStore());
		expect(view.frame()).toMatchInlineSnapshot(`"src 0.4 ms mem 50% ev 0 mon 256 KiB │ tgt 0.6 ms mem 819 MiB ev 0"`);
	});

	it('sums a cluster, keeps its slowest node and counts new evictions', async () => {
		const node = {latencyMs: 1, usedMemory: 1024 ** 3, maxmemory: 2 * 1024 ** 3, evictedKeys: 0, monitorBuffer: 70 * 1024 ** 2};
		const store = populatedStore('sync', {
			preflight: null,
			health: {
				source: [
					{...node, address: 'a:1'},
					{...node, address: 'b:1', latencyMs: 230, evictedKeys: 12},
					{...node, address: 'c:1', latencyMs: null},
				],
				target: [],
			},
		});
		const view = await renderPane(<HealthLines lines={2} />, store);
		expect(view.frame()).toMatchInlineSnapshot(`
			"source ×3 230 ms · mem 3.0 GiB / 6.0 GiB · evicted 12 · monitor buf 70.0 MiB
			target    waiting for the first health check"
		`);
	});

	it('shows nodes whose connection is being re-established instead of their latency', async () => {
		const node = {latencyMs: 1, usedMemory: 1024 ** 3, maxmemory: 0, evictedKeys: 0, monitorBuffer: null};
		const store = populatedStore('sync', {
			preflight: null,
			health: {
				source: [
					{...node, address: 'a:1', reconnecting: true},
					{...node, address: 'b:1'},
				],
				target: [{...node, address: 't:1', latencyMs: null, reconnecting: true}],
			},
		});
		const view = await renderPane(<HealthLines lines={2} />, store);
		expect(view.frame()).toMatchInlineSnapshot(`
			"source ×2 reconnecting 1/2 · mem 2.0 GiB (no limit) · evicted 0
			target    reconnecting · mem 1.0 GiB (no limit) · evicted 0"
		`);
	});
});

describe('LogPane', () => {
	it('tails stage changes, preflight findings and warnings', async () => {
		const store = withFeed(populatedStore());
		const view = await renderPane(<LogPane width={80} lines={8} />, store);
		expect(view.frame()).toMatchInlineSnapshot(`
			"── log ─────────────────────────────────────────────────────────────────────────
			14:29:00 ● preflight started
			14:29:05 ✓ preflight passed: 1,980,000 keys, dump copy
			14:29:10 ▲ monitor-cost: MONITOR can halve source throughput at peak
			14:29:15 ● capture started
			14:29:20 ● copy started: scanning 1 db
			14:29:25 ▲ big-key: key "feed:global" is 512 MiB; copied on its own

			"
		`);
	});
});

describe('Footer', () => {
	it('says when the stage is ready and that Enter advances it', async () => {
		const store = populatedStore('copy', {stageStatus: 'ready', stageDetail: 'every scan cursor finished'});
		const view = await renderPane(<Footer width={80} keysLine />, store);
		expect(view.frame()).toMatchInlineSnapshot(`
			"◆ copy is ready: every scan cursor finished · press Enter to advance to sync
			Enter advance  p pause copy  +/- copy rate  d discrepancies  ? keys  q quit"
		`);
	});

	it('shows what a running stage waits for, a failure, a stop and the exit', async () => {
		const store = populatedStore('sync', {stageDetail: 'lag 1,234 events'});
		const view = await renderPane(<Footer width={80} keysLine />, store);
		expect(view.frame()).toMatchInlineSnapshot(`
			"● sync: lag 1,234 events
			v verify now  d discrepancies  ? keys  q quit"
		`);
		store.setState({stageStatus: 'failed', stageDetail: 'target refused RESTORE: OOM'});
		await view.press();
		expect(view.lines()[0]).toBe('✗ sync failed: target refused RESTORE: OOM · q to quit');
		store.setState({stageStatus: 'running', stopping: true});
		await view.press();
		expect(view.lines()[0]).toBe('● stopping: draining to a barrier, then exiting');
		store.setState({exitCode: 0});
		await view.press();
		expect(view.lines()[0]).toBe('✓ keyferry exited with code 0: clean exit');
	});

	it('drops keys before ? and q when the terminal is narrow', async () => {
		const store = populatedStore('copy', {stageStatus: 'ready'});
		const view = await renderPane(<Footer width={44} keysLine />, store, {columns: 44});
		expect(view.lines()[1]).toBe('Enter advance  p pause copy  ? keys  q quit');
	});

	it('shows a notice in place of the keys', async () => {
		const store = populatedStore('copy');
		const view = await renderPane(<Footer width={80} keysLine />, store);
		notify(view.ui, 'copy rate limit: 10.0k/s');
		await view.press();
		expect(view.lines()[1]).toBe('› copy rate limit: 10.0k/s');
	});
});
