/** Captured, applied and copied per second over the last minutes, as sparklines. */
import {Box, Text} from 'ink';
import {Panel} from '../components/panel';
import {useKeyferryShallow, useTheme} from '../console-context';
import {padEnd, padStart} from '../fit';
import {formatCompact, formatRate} from '../format';
import {bucketFor, bucketize, sparkline} from '../sparkline';
import type {Tone} from '../theme';

export interface ThroughputPaneProps {
	width: number;
	/** 1: one sparkline row per series; 2: two rows, with the series' total under its rate. */
	sparkRows: 1 | 2;
}

const labelWidth = 9;
const valueWidth = 9;

/** The span a sparkline covers, roughly: "last 4m" reads better than "last 3m50s". */
export function windowLabel(seconds: number): string {
	return seconds >= 90 ? `${Math.round(seconds / 60)}m` : `${seconds}s`;
}

export function ThroughputPane({width, sparkRows}: ThroughputPaneProps) {
	const theme = useTheme();
	const s = useKeyferryShallow((state) => ({
		history: state.history,
		captureRate: state.stats.captureRate,
		applyRate: state.stats.applyRate,
		copyRate: state.stats.copyRate,
		captured: state.stats.captured,
		applied: state.stats.applied,
		copied: state.stats.keysCopied,
	}));
	const sparkWidth = Math.max(4, width - 4 - labelWidth - 1 - valueWidth);
	const bucket = bucketFor(sparkWidth);
	// Captured and applied share a scale: replay keeping up reads as two matching shapes.
	const sharedMax = Math.max(0, ...bucketize(s.history.captured, sparkWidth, bucket).map((v) => v ?? 0), ...bucketize(s.history.applied, sparkWidth, bucket).map((v) => v ?? 0));
	const series: Array<{label: string; values: number[]; rate: number; total: number; tone: Tone; max?: number}> = [
		{label: 'captured', values: s.history.captured, rate: s.captureRate, total: s.captured, tone: 'captured', max: sharedMax},
		{label: 'applied', values: s.history.applied, rate: s.applyRate, total: s.applied, tone: 'applied', max: sharedMax},
		{label: 'copied', values: s.history.copied, rate: s.copyRate, total: s.copied, tone: 'copied'},
	];
	return (
		<Panel title="throughput" extra={`per second ${theme.glyphs.separator} last ${windowLabel(sparkWidth * bucket)}`} width={width} rows={3 * sparkRows}>
			{series.flatMap((item) => {
				const rows = sparkline(item.values, theme.glyphs, {width: sparkWidth, height: sparkRows, bucket, ...(item.max === undefined ? {} : {max: item.max})});
				return rows.map((row, index) => (
					<Box key={`${item.label}-${index}`}>
						<Text>{padEnd(index === 0 ? item.label : '', labelWidth)}</Text>
						<Text color={theme.tone(item.tone)}>{row}</Text>
						{index === 0 ? (
							<Text bold>{padStart(formatRate(item.rate), valueWidth + 1)}</Text>
						) : (
							<Text dimColor>{padStart(`${formatCompact(item.total)} tot`, valueWidth + 1)}</Text>
						)}
					</Box>
				));
			})}
		</Panel>
	);
}
