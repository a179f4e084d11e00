/** Stage changes, warnings, errors and gaps, newest at the bottom like a tail. */
import {Box, Text} from 'ink';
import {useMemo} from 'react';
import type {EngineEvent} from '../../engine/events';
import type {FeedEntry} from '../../engine/store';
import {useKeyferry, useTheme} from '../console-context';
import {formatCount, formatDuration, formatTimeOfDay} from '../format';
import type {Glyphs} from '../glyphs';
import {printable} from '../printable';
import type {Tone} from '../theme';

export interface LogLine {
	key: string;
	ts: number;
	glyph: string;
	tone: Tone | undefined;
	text: string;
}

export function summaryText(event: Extract<EngineEvent, {type: 'summary'}>, glyphs: Glyphs): string {
	const sep = ` ${glyphs.separator} `;
	return `${formatCount(event.keysCopied)} keys copied${sep}${formatCount(event.recopies)} re-copied${sep}${formatCount(event.discrepancies)} discrepancies in ${formatCount(event.samples)} samples${sep}${formatDuration(event.durationMs / 1000)}`;
}

/** Feed entries as log lines; discrepancies stay in their own pane. */
export function logLines(feed: readonly FeedEntry[], glyphs: Glyphs): LogLine[] {
	const lines: LogLine[] = [];
	const add = (entry: FeedEntry, glyph: string, tone: Tone | undefined, text: string) => lines.push({key: String(entry.seq), ts: entry.ts, glyph, tone, text});
	for (const entry of feed) {
		const event = entry.event;
		switch (event.type) {
			case 'stage': {
				const reason = event.reason ? `: ${event.reason}` : '';
				if (event.status === 'running') add(entry, glyphs.stageCurrent, 'accent', `${event.stage} started${reason}`);
				else if (event.status === 'ready') add(entry, glyphs.stageReady, 'ok', `${event.stage} ready${reason}`);
				else if (event.status === 'finished') add(entry, glyphs.stageDone, 'ok', `${event.stage} finished${reason}`);
				else add(entry, glyphs.stageFailed, 'bad', `${event.stage} failed${reason}`);
				break;
			}
			case 'preflight': {
				// Findings arrive as their own warning and error events; this is the verdict.
				const {report} = event;
				const blocking = report.findings.filter((finding) => finding.severity === 'blocking').length;
				const verdict = report.ok
					? `preflight passed: ${formatCount(report.source.totalKeys)} keys, ${report.copyMode} copy`
					: `preflight found ${blocking} blocking issue${blocking === 1 ? '' : 's'}`;
				add(entry, report.ok ? glyphs.stageDone : glyphs.stageFailed, report.ok ? 'ok' : 'bad', verdict);
				break;
			}
			case 'info':
				add(entry, glyphs.info, undefined, event.message);
				break;
			case 'warning':
				add(entry, glyphs.warning, 'warn', `${event.code}: ${event.message}`);
				break;
			case 'error':
				add(entry, glyphs.error, 'bad', `${event.code}: ${event.message}`);
				break;
			case 'gap':
				add(entry, glyphs.warning, 'warn', `gap on ${event.node}: ${event.message}`);
				break;
			case 'summary':
				add(entry, event.exitCode === 0 ? glyphs.stageDone : glyphs.stageFailed, event.exitCode === 0 ? 'ok' : 'bad', `summary: exit ${event.exitCode} ${glyphs.separator} ${summaryText(event, glyphs)}`);
				break;
			case 'discrepancy':
				break;
		}
	}
	return lines;
}

export function LogPane({width, lines}: {width: number; lines: number}) {
	const theme = useTheme();
	const {glyphs} = theme;
	const feed = useKeyferry((state) => state.feed);
	const all = useMemo(() => logLines(feed, glyphs), [feed, glyphs]);
	const shown = all.slice(-lines);
	const title = ` log `;
	return (
		<Box flexDirection="column" width={width} height={lines + 1} overflow="hidden">
			<Text dimColor wrap="truncate-end">
				{glyphs.rule.repeat(2)}
				{title}
				{glyphs.rule.repeat(Math.max(0, width - 2 - title.length))}
			</Text>
			{shown.length === 0 ? <Text dimColor>nothing yet</Text> : null}
			{shown.map((line) => (
				<Text key={line.key} wrap="truncate-end">
					<Text dimColor>{formatTimeOfDay(line.ts)} </Text>
					<Text color={line.tone ? theme.tone(line.tone) : undefined}>
						{line.glyph} {printable(line.text, theme.ascii)}
					</Text>
				</Text>
			))}
		</Box>
	);
}
