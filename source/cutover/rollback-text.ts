/** `keyferry rollback` on a terminal: the preview as text, and the typed confirmation before applying. */
import {createInterface} from 'node:readline/promises';
import type {RollbackCountsEvent} from '../engine/events';
import type {RollbackItem} from './rollback-preview';

/** Keys listed before "… and N more" on a terminal (headless lists every one). */
const listedKeys = 200;

export function formatRollbackPreview(items: readonly RollbackItem[], counts: RollbackCountsEvent): string {
	if (items.length === 0) return `Nothing to roll back: no key changed on the target since cutover (basis: ${counts.basis}).\n`;
	const lines = items.slice(0, listedKeys).map(({entry}) => `  ${entry.change.padEnd(9)} db${String(entry.db).padEnd(3)} ${entry.key}  ${entry.diff}`);
	if (items.length > listedKeys) lines.push(`  … and ${items.length - listedKeys} more`);
	const tally = (record: Record<string, number>) =>
		Object.entries(record)
			.sort((a, b) => b[1] - a[1])
			.map(([name, count]) => `${name === '' ? '(no prefix)' : name} ${count}`)
			.join(', ');
	return [
		`Rollback would change ${items.length} key(s) on the source (basis: ${counts.basis}):`,
		...lines,
		`  ${counts.added} added, ${counts.modified} modified, ${counts.deleted} deleted`,
		`  by type: ${tally(counts.byType)}`,
		`  by prefix: ${tally(counts.byPrefix)}`,
		'',
	].join('\n');
}

/** Asks for "rollback" typed; anything else declines. */
export async function askRollbackConfirmation(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, count: number): Promise<boolean> {
	const readline = createInterface({input, output});
	try {
		const answer = await readline.question(`Type rollback to copy these ${count} key(s) from the target back to the source: `);
		return answer.trim() === 'rollback';
	} finally {
		readline.close();
	}
}
