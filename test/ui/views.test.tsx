import './setup';
import {describe, expect, it} from 'vitest';
import type {DiscrepancyRecord} from '../../source/engine/events';
import {emit} from '../../source/engine/store';
import {cleanup, keys, renderConsole, useFrozenClock} from './render-console';
import {populatedStore, withFeed} from './fixtures/populated-store';

useFrozenClock();

function manyDiscrepancies(count: number): DiscrepancyRecord[] {
	return Array.from({length: count}, (_, i) => ({key: `order:${1000 + i}`, db: 0, kind: i % 2 ? 'ttl' : 'value', diff: `total ${i} != ${i + 1}`}));
}

describe('? overlay', () => {
	it('lists the dashboard keys, with why some do nothing now, and closes on Esc', async () => {
		const view = await renderConsole(populatedStore('copy'));
		await view.press('?');
		expect(view.frame()).toMatchInlineSnapshot(`
			"keyferry  10.0.1.15:6379 7.2.4 → 10.0.2.40:6379 7.4.1    mig-3f9a2c1e · 00:12:34
			✓ preflight › ✓ capture › ● copy › ○ sync › ○ verify › ○ cutover › ○ done
			╭─ keys dashboard · Esc or ? closes ───────────────────────────────────────────╮
			│ Enter   advance to the next stage · not now: copy is not ready yet           │
			│ p       pause or resume the copy                                             │
			│ +/-     raise or lower the copy rate limit                                   │
			│ v       verify a fresh sample now · not now: only during sync and verify     │
			│ d       open the discrepancy list                                            │
			│ r       preview a rollback to the source · not now: available after cutover  │
			│ ?       show or hide these keys                                              │
			│ q       quit, after asking; drains to a barrier first                        │
			│ Ctrl+C  quit now (drains to a barrier); twice: abort                         │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			╰──────────────────────────────────────────────────────────────────────────────╯
			● copy: scanning db 0
			Esc back  ? keys  q quit"
		`);
		await view.press(keys.escape);
		expect(view.frame()).toContain('╭─ throughput');
	});

	it('lists the discrepancy list keys there, and ? closes it', async () => {
		const view = await renderConsole(withFeed(populatedStore('verify')));
		await view.press('d', '?');
		expect(view.frame()).toContain('select the next older discrepancy');
		expect(view.frame()).not.toContain('pause or resume the copy');
		await view.press('?');
		expect(view.frame()).toContain('╭─ discrepancies');
	});
});

describe('discrepancy list', () => {
	it('opens on d, newest first, with a cursor and the diff on Enter', async () => {
		const view = await renderConsole(withFeed(populatedStore('verify')));
		await view.press('d');
		expect(view.frame()).toMatchInlineSnapshot(`
			"keyferry  10.0.1.15:6379 7.2.4 → 10.0.2.40:6379 7.4.1    mig-3f9a2c1e · 00:12:34
			✓ preflight › ✓ capture › ✓ copy › ✓ sync › ● verify › ○ cutover › ○ done
			╭─ discrepancies 1/3 · 3 found · 1.2% of 250 samples · newest first ───────────╮
			│   kind    db   key                         diff                              │
			│ › missing db2  cart:77                     missing on target (hash, 4 field… │
			│   ttl     db0  session:8f2c                ttl 120 s != none                 │
			│   value   db0  user:1001:profile           field email: "a@old.example" != … │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			│                                                                              │
			╰──────────────────────────────────────────────────────────────────────────────╯
			● verify: scanning db 0
			↑/k newer  ↓/j older  Enter toggle diff  Esc back  ? keys  q quit"
		`);
		await view.press(keys.down, keys.enter);
		expect(view.frame()).toContain('› ttl     db0  session:8f2c');
		expect(view.frame()).toContain('diff ttl 120 s != none');
		await view.press(keys.escape);
		expect(view.frame()).toContain('╭─ throughput');
	});

	it('scrolls to keep the cursor in view and follows the newest at the top', async () => {
		const store = withFeed(populatedStore('verify'), manyDiscrepancies(60));
		const view = await renderConsole(store);
		await view.press('d', 'G');
		expect(view.frame()).toContain('› value   db0  order:1000');
		expect(view.frame()).toContain('60/60');
		await view.press('g');
		expect(view.frame()).toContain('› ttl     db0  order:1059');
		emit(store, {type: 'discrepancy', key: 'order:new', db: 0, kind: 'missing', diff: 'missing on target'});
		await view.press();
		expect(view.frame()).toContain('› missing db0  order:new');
		await view.press(keys.down, keys.down);
		emit(store, {type: 'discrepancy', key: 'order:newer', db: 0, kind: 'missing', diff: 'missing on target'});
		await view.press();
		expect(view.frame()).toContain('› value   db0  order:1058');
	});

	it('is empty before any discrepancy', async () => {
		const view = await renderConsole(populatedStore('sync', {discrepancies: []}));
		await view.press('d');
		expect(view.frame()).toContain('no discrepancies in 250 samples');
	});
});

describe('rollback preview', () => {
	it('is available after cutover only, and waits for the engine to publish the diff', async () => {
		const before = await renderConsole(populatedStore('verify'));
		await before.press('r');
		expect(before.lines().at(-1)).toBe('› rollback preview: available after cutover');
		cleanup();
		const after = await renderConsole(populatedStore('cutover'));
		await after.press('r');
		expect(after.frame()).toContain('╭─ rollback preview');
		expect(after.frame()).toContain('rollback preview: starts once the cutover point is recorded');
		await after.press(keys.escape);
		expect(after.frame()).toContain('╭─ throughput');
	});

	it('lists what the rollback does to the source, with counts, and scrolls', async () => {
		const entries = Array.from({length: 40}, (_, i) => ({
			key: `user:${100 + i}`,
			db: 0,
			change: (['added', 'modified', 'deleted'] as const)[i % 3]!,
			keyType: 'hash',
			diff: `field "name" "old${i}" → "new${i}"`,
		}));
		const counts = {basis: 'journal' as const, total: 40, added: 14, modified: 13, deleted: 13, byType: {hash: 40}, byPrefix: {user: 40}};
		const store = populatedStore('done', {completedStages: ['preflight', 'capture', 'copy', 'sync', 'verify', 'cutover'], rollback: {entries, total: 40, ready: true, counts}});
		const view = await renderConsole(store);
		await view.press('r');
		const frame = view.frame();
		expect(frame).toContain('rollback preview 40 key(s) · basis journal · 1-');
		expect(frame).toContain('14 added · 13 modified · 13 deleted · hash 40 · prefixes user 40');
		expect(frame).toMatch(/added +db0 +user:100 +field "name" "old0" → "new0"/);
		await view.press('G');
		expect(view.frame()).toContain('user:139');
		expect(view.frame()).not.toContain('user:100 ');
		await view.press('g');
		expect(view.frame()).toContain('user:100');
	});

	it('says so when nothing changed on the target', async () => {
		const counts = {basis: 'journal' as const, total: 0, added: 0, modified: 0, deleted: 0, byType: {}, byPrefix: {}};
		const view = await renderConsole(populatedStore('done', {rollback: {entries: [], total: 0, ready: true, counts}}));
		await view.press('r');
		expect(view.frame()).toContain('no key changed on the target since cutover');
	});
});
