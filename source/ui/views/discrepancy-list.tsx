/** `d`: every discrepancy kept, newest first, with a cursor and the full diff of the selected one. */
import {Box, Text} from 'ink';
import {Panel} from '../components/panel';
import {useKeyferryShallow, useTheme, useUi} from '../console-context';
import {formatCount} from '../format';
import {dbWidth, discrepancyColumns, DiscrepancyRow, discrepancySummary, kindWidth} from '../panes/discrepancies-pane';
import {printable} from '../printable';

/** The first displayed row so the cursor stays in view (display order is newest first). */
export function windowStart(cursor: number, count: number, visible: number): number {
	if (count <= visible) return 0;
	return Math.min(Math.max(0, cursor - Math.floor(visible / 2)), count - visible);
}

export function DiscrepancyList({width, lines}: {width: number; lines: number}) {
	const theme = useTheme();
	const {glyphs} = theme;
	const s = useKeyferryShallow((state) => ({records: state.discrepancies, count: state.stats.discrepancies, samples: state.stats.samples}));
	const selected = useUi((u) => u.selected);
	const detail = useUi((u) => u.detail);
	const rows = Math.max(1, lines - 2);
	const total = s.records.length;
	const selectedIndex = Math.min(selected ?? total - 1, total - 1);
	const cursor = total - 1 - selectedIndex;
	const detailRows = detail && total > 0 ? Math.min(5, Math.floor(rows / 2)) : 0;
	const listRows = Math.max(1, rows - 1 - detailRows);
	const start = windowStart(cursor, total, listRows);
	const shown = s.records
		.slice()
		.reverse()
		.slice(start, start + listRows);
	const inner = width - 4;
	const rowWidth = inner - 2;
	const keyWidth = discrepancyColumns(rowWidth).key;
	const record = s.records[selectedIndex];
	const position = total > 0 ? `${cursor + 1}/${formatCount(total)}` : '0';
	return (
		<Panel
			title="discrepancies"
			titleTone={total > 0 ? 'bad' : undefined}
			extra={`${position} ${glyphs.separator} ${discrepancySummary(Math.max(s.count, total), s.samples, glyphs.separator)} ${glyphs.separator} newest first`}
			width={width}
			rows={rows}
		>
			<Text bold wrap="truncate-end">
				{'  '}
				{'kind'.padEnd(kindWidth)}
				{'db'.padEnd(dbWidth)}
				{'key'.padEnd(keyWidth + 1)}diff
			</Text>
			{total === 0 ? <Text dimColor>no discrepancies {s.samples > 0 ? `in ${formatCount(s.samples)} samples` : 'yet'}</Text> : null}
			{shown.map((item, index) => {
				const isSelected = start + index === cursor;
				return (
					<Box key={`${start + index}`}>
						<Text bold color={theme.tone('accent')}>
							{isSelected ? `${glyphs.selected} ` : '  '}
						</Text>
						<DiscrepancyRow record={item} width={rowWidth} theme={theme} />
					</Box>
				);
			})}
			{record && detailRows > 0 ? (
				<Box flexDirection="column" height={detailRows} overflow="hidden" marginTop={Math.max(0, listRows - shown.length)}>
					<Text dimColor>{glyphs.rule.repeat(Math.max(0, inner))}</Text>
					<Text wrap="wrap">
						<Text bold>key </Text>
						{printable(record.key, theme.ascii)}
						<Text dimColor>
							{' '}
							{glyphs.separator} db{record.db} {glyphs.separator} {record.kind}
						</Text>
					</Text>
					<Text wrap="wrap">
						<Text bold>diff </Text>
						{printable(record.diff, theme.ascii)}
					</Text>
				</Box>
			) : null}
		</Panel>
	);
}
