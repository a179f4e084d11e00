/**
 * `r` after cutover: what a rollback would write back to the source, key by key (added, modified,
 * deleted, with a type-aware diff), with counts by change, type and key prefix. The list scrolls;
 * `a` applies it after "rollback" is typed.
 */
import {Box, Text} from 'ink';
import type {RollbackEntry} from '../../engine/events';
import {Panel} from '../components/panel';
import {useKeyferry, useKeyferryShallow, useTheme, useUi} from '../console-context';
import {formatCount} from '../format';
import {printable} from '../printable';
import type {Tone} from '../theme';

const changeWidth = 10;
const dbWidth = 5;
const changeTone: Record<RollbackEntry['change'], Tone> = {added: 'ok', modified: 'warn', deleted: 'bad'};

/** `name count` pairs, largest first. */
function tally(record: Record<string, number>): string {
	return Object.entries(record)
		.sort((a, b) => b[1] - a[1])
		.map(([name, count]) => `${name === '' ? '(none)' : name} ${formatCount(count)}`)
		.join(', ');
}

export function RollbackPreview({width, lines}: {width: number; lines: number}) {
	const theme = useTheme();
	const {glyphs} = theme;
	const s = useKeyferryShallow((state) => ({
		afterCutover: state.stage === 'cutover' || state.stage === 'done' || state.stage === 'rollback' || state.completedStages.includes('cutover'),
		stage: state.stage,
		stageStatus: state.stageStatus,
	}));
	const preview = useKeyferry((state) => state.rollback);
	const top = useUi((u) => u.rollbackTop);
	const rows = Math.max(1, lines - 2);
	const say = (text: string, tone: Tone = 'muted') => (
		<Panel title="rollback preview" width={width} rows={rows}>
			<Text wrap="wrap" color={theme.tone(tone)}>
				{text}
			</Text>
		</Panel>
	);
	if (!s.afterCutover) return say('rollback preview: available after cutover');
	if (!preview) return say('rollback preview: starts once the cutover point is recorded and reverse capture runs on the target');
	if (!preview.ready) return say(`comparing the keys changed on the target since cutover${glyphs.ellipsis}`);
	const {entries, counts} = preview;
	if (entries.length === 0) return say('no key changed on the target since cutover: a rollback has nothing to copy back', 'ok');

	const listRows = Math.max(1, rows - 2);
	const start = Math.min(top, Math.max(0, entries.length - listRows));
	const shown = entries.slice(start, start + listRows);
	const inner = width - 4;
	const keyWidth = Math.max(8, Math.floor((inner - changeWidth - dbWidth) * 0.4));
	const diffWidth = Math.max(8, inner - changeWidth - dbWidth - keyWidth - 1);
	const status = s.stage === 'rollback' ? (s.stageStatus === 'ready' ? 'rolled back' : 'rolling back') : `basis ${counts.basis}`;
	const position = `${start + 1}-${start + shown.length}/${formatCount(entries.length)}`;
	const more = preview.total > entries.length ? ` (of ${formatCount(preview.total)})` : '';
	const fit = (text: string, room: number) => (text.length > room ? `${text.slice(0, Math.max(0, room - 1))}${glyphs.ellipsis}` : text.padEnd(room));
	return (
		<Panel title="rollback preview" extra={`${formatCount(preview.total)} key(s) ${glyphs.separator} ${status} ${glyphs.separator} ${position}${more}`} width={width} rows={rows}>
			<Text wrap="truncate-end">
				<Text color={theme.tone('ok')}>{formatCount(counts.added)} added</Text> {glyphs.separator} <Text color={theme.tone('warn')}>{formatCount(counts.modified)} modified</Text>{' '}
				{glyphs.separator} <Text color={theme.tone('bad')}>{formatCount(counts.deleted)} deleted</Text>
				<Text dimColor>
					{' '}
					{glyphs.separator} {printable(tally(counts.byType), theme.ascii)} {glyphs.separator} prefixes {printable(tally(counts.byPrefix), theme.ascii)}
				</Text>
			</Text>
			<Text bold wrap="truncate-end">
				{'change'.padEnd(changeWidth)}
				{'db'.padEnd(dbWidth)}
				{'key'.padEnd(keyWidth + 1)}what the source gets
			</Text>
			{shown.map((entry, index) => (
				<Box key={`${start + index}`}>
					<Text wrap="truncate-end">
						<Text color={theme.tone(changeTone[entry.change])}>{entry.change.padEnd(changeWidth)}</Text>
						{`db${entry.db}`.padEnd(dbWidth)}
						{fit(printable(entry.key, theme.ascii), keyWidth)}{' '}
						<Text dimColor>{fit(printable(entry.diff.replaceAll('→', glyphs.arrow), theme.ascii), diffWidth)}</Text>
					</Text>
				</Box>
			))}
		</Panel>
	);
}
