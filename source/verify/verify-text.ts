/**
 * `keyferry verify` on a terminal: a progress line on stderr while it runs, then a readable report.
 * Plain text, no Ink: there is nothing to operate while a verification runs (Ctrl+C stops it).
 */
import type {Writable} from 'node:stream';
import type {DiscrepancyRecord, EngineEvent} from '../engine/events';
import type {KeyferryState, KeyferryStore} from '../engine/store';
import {ExitCode} from '../errors';
import {verifyStatsOf, type VerifyOutcome} from './run-verify';

export interface TextStyle {
	ascii: boolean;
	color: boolean;
}

/** Discrepancies listed in the report; the file has all of them. */
export const reportLimit = 20;

const reported: ReadonlySet<number> = new Set([ExitCode.ok, ExitCode.discrepancies, ExitCode.aborted]);

const count = (value: number) => value.toLocaleString('en-US');
const plural = (value: number, one: string, many: string) => `${count(value)} ${value === 1 ? one : many}`;

export function formatProgress(state: KeyferryState, samples: number | null, style: TextStyle): string {
	const {keysChecked, sampleRate} = verifyStatsOf(state.stats);
	const separator = style.ascii ? ' | ' : ' · ';
	const checked = samples === null ? `${count(keysChecked)} keys checked` : `${count(keysChecked)} of ${count(samples)} keys checked`;
	return ['verify', checked, plural(state.stats.discrepancies, 'discrepancy', 'discrepancies'), `${count(sampleRate)} keys/s`].join(separator);
}

/**
 * Redraws the line in place a few times a second on a terminal; on a redirected stderr prints one
 * line every few seconds instead. Returns the function that stops it (and clears the line).
 */
export function startVerifyProgress(store: KeyferryStore, err: Writable & {isTTY?: boolean}, samples: number | null, style: TextStyle): () => void {
	const tty = err.isTTY === true;
	const draw = () => {
		const line = formatProgress(store.getState(), samples, style);
		err.write(tty ? `\r\u001B[2K${line}` : `keyferry: ${line}\n`);
	};
	draw();
	const timer = setInterval(draw, tty ? 250 : 5000);
	timer.unref();
	return () => {
		clearInterval(timer);
		if (tty) err.write('\r\u001B[2K');
	};
}

export interface VerifyReport {
	stdout: string;
	stderr: string;
}

/** The final report: the verdict, up to `reportLimit` discrepancies and the file; errors go to stderr. */
export function formatVerifyReport(state: KeyferryState, outcome: VerifyOutcome, samples: number | null, style: TextStyle): VerifyReport {
	const events = state.feed.map((entry) => entry.event);
	const problems = events.flatMap((event) => problemLine(event));
	const stderr = problems.map((line) => `keyferry: ${line}\n`).join('');
	const summary = events.findLast((event) => event.type === 'summary');
	// A run that failed has nothing to report but its error.
	if (summary?.type !== 'summary' || !reported.has(outcome.exitCode)) return {stdout: '', stderr};
	const paint = (code: number, text: string) => (style.color ? `\u001B[${code}m${text}\u001B[39m` : text);
	const clean = (text: string) => (style.ascii ? text.replaceAll('≠', '!=').replaceAll('…', '...') : text);
	const {keysChecked} = verifyStatsOf(summary);
	const found = summary.discrepancies;
	const scope = samples === null ? 'every key, both ways' : keysChecked < samples && !state.stopping ? `random keys; fewer than ${count(samples)} exist` : 'random keys';
	const verdict = found === 0 ? paint(32, 'no discrepancies') : paint(31, plural(found, 'discrepancy', 'discrepancies'));
	const seconds = (summary.durationMs / 1000).toFixed(1);
	const lines = [`keyferry verify: ${state.stopping ? 'stopped early: ' : ''}${verdict} in ${plural(keysChecked, 'key', 'keys')} checked (${scope}) in ${seconds} s`];
	const shown = state.discrepancies.slice(0, reportLimit);
	for (const record of shown) lines.push(clean(discrepancyLine(record, (text) => paint(31, text))));
	if (found > shown.length) lines.push(`  ${style.ascii ? '...' : '…'} and ${count(found - shown.length)} more`);
	if (outcome.discrepancyFile !== null && found > 0) lines.push(`discrepancy file: ${outcome.discrepancyFile}`);
	return {stdout: `${lines.join('\n')}\n`, stderr};
}

function discrepancyLine(record: DiscrepancyRecord, paint: (text: string) => string): string {
	return `  db${record.db}  ${paint(record.kind.padEnd(7))}  ${record.key}  ${record.diff}`;
}

function problemLine(event: EngineEvent): string[] {
	if (event.type === 'warning') return [`warning: ${event.message}`];
	// Bad input points at the help, as every usage error does.
	if (event.type === 'error') return [event.code === 'usage' ? `${event.message} (see keyferry --help)` : event.message];
	return [];
}
