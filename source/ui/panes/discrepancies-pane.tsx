/** Discrepancies found by verification: how many, how often, and the newest few. */
import {Box, Text} from 'ink';
import type {DiscrepancyRecord} from '../../engine/events';
import {Panel} from '../components/panel';
import {useKeyferryShallow, useTheme} from '../console-context';
import {formatCount} from '../format';
import {printable} from '../printable';
import type {Theme, Tone} from '../theme';

export const kindWidth = 8;
export const dbWidth = 5;

export function kindTone(kind: DiscrepancyRecord['kind']): Tone {
	return kind === 'ttl' ? 'warn' : 'bad';
}

/** "3 found · 1.2% of 250 samples": the share of samples tells a blip from a broken copy. */
export function discrepancySummary(count: number, samples: number, separator: string): string {
	if (samples === 0) return count === 0 ? 'no samples yet' : `${formatCount(count)} found`;
	const share = (count / samples) * 100;
	const percent = share === 0 ? '0' : share < 0.1 ? '<0.1' : share.toFixed(1);
	return `${formatCount(count)} found ${separator} ${percent}% of ${formatCount(samples)} samples`;
}

/** Column widths are explicit: the row must never grow past its pane, whatever the key holds. */
export function discrepancyColumns(width: number): {key: number; diff: number} {
	const rest = Math.max(0, width - kindWidth - dbWidth);
	const key = Math.max(8, Math.floor(rest * 0.45));
	return {key, diff: Math.max(0, rest - key - 1)};
}

export function DiscrepancyRow({record, width, theme}: {record: DiscrepancyRecord; width: number; theme: Theme}) {
	const columns = discrepancyColumns(width);
	return (
		<Box width={width} flexShrink={0}>
			<Box width={kindWidth} flexShrink={0}>
				<Text color={theme.tone(kindTone(record.kind))}>{record.kind}</Text>
			</Box>
			<Box width={dbWidth} flexShrink={0}>
				<Text dimColor>db{record.db}</Text>
			</Box>
			<Box width={columns.key + 1} flexShrink={0}>
				<Text wrap="truncate-end">{printable(record.key, theme.ascii)}</Text>
			</Box>
			<Box width={columns.diff} flexShrink={0}>
				<Text wrap="truncate-end" dimColor>
					{printable(record.diff, theme.ascii)}
				</Text>
			</Box>
		</Box>
	);
}

export function DiscrepanciesPane({width, rows}: {width: number; rows: number}) {
	const theme = useTheme();
	const s = useKeyferryShallow((state) => ({
		count: state.stats.discrepancies,
		samples: state.stats.samples,
		records: state.discrepancies,
	}));
	const latest = s.records.slice(-rows).reverse();
	const count = Math.max(s.count, latest.length);
	return (
		<Panel
			title="discrepancies"
			titleTone={count > 0 ? 'bad' : undefined}
			extra={`${discrepancySummary(count, s.samples, theme.glyphs.separator)} ${theme.glyphs.separator} d list`}
			width={width}
			rows={rows}
		>
			{latest.length === 0 ? (
				<Text wrap="truncate-end" color={s.samples > 0 ? theme.tone('ok') : undefined} dimColor={s.samples === 0}>
					{s.samples > 0 ? 'none: every sampled key matches' : 'verification samples keys once the copy is done'}
				</Text>
			) : (
				latest.map((record, index) => <DiscrepancyRow key={`${index}-${record.db}-${record.key}`} record={record} width={width - 4} theme={theme} />)
			)}
		</Panel>
	);
}
