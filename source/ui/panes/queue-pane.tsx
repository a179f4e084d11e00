/** How far replay is behind capture: events, seconds, the journal on disk, and where it is heading. */
import {Box, Text} from 'ink';
import {Panel} from '../components/panel';
import {useKeyferryShallow, useTheme} from '../console-context';
import {padEnd} from '../fit';
import {formatBytes, formatCount, formatLagSeconds} from '../format';
import type {Glyphs} from '../glyphs';
import {bucketFor, sparkline} from '../sparkline';
import type {Tone} from '../theme';
import {trendOf, type Trend} from '../trend';

export interface QueuePaneProps {
	width: number;
	rows: 3 | 6;
}

const labelWidth = 10;

export function lagTone(lagSeconds: number): Tone {
	if (lagSeconds >= 30) return 'bad';
	if (lagSeconds >= 5) return 'warn';
	return 'ok';
}

/** Where the queue is heading; an empty queue is caught up, whatever the last seconds looked like. */
export function queueTrend(lag: number, history: readonly number[], glyphs: Glyphs): {text: string; tone: Tone} {
	if (lag === 0) return {text: `${glyphs.trendFlat} caught up`, tone: 'ok'};
	return trendText(trendOf(history), glyphs);
}

function trendText(trend: Trend, glyphs: Glyphs): {text: string; tone: Tone} {
	switch (trend) {
		case 'rising':
			return {text: `${glyphs.trendUp} growing`, tone: 'warn'};
		case 'falling':
			return {text: `${glyphs.trendDown} draining`, tone: 'ok'};
		default:
			return {text: `${glyphs.trendFlat} steady`, tone: 'muted'};
	}
}

export function QueuePane({width, rows}: QueuePaneProps) {
	const theme = useTheme();
	const {glyphs} = theme;
	const s = useKeyferryShallow((state) => ({
		lag: state.stats.lag,
		lagSeconds: state.stats.lagSeconds,
		journalBytes: state.stats.journalBytes,
		recopies: state.stats.recopies,
		lagHistory: state.history.lag,
	}));
	const trend = queueTrend(s.lag, s.lagHistory, glyphs);
	const inner = Math.max(4, width - 4);
	const sparkWidth = Math.max(4, inner - labelWidth - trend.text.length - 1);
	const spark = sparkline(s.lagHistory, glyphs, {width: sparkWidth, height: rows === 6 ? 2 : 1, bucket: bucketFor(sparkWidth)});
	const tone = theme.tone(lagTone(s.lagSeconds));
	const lagLine =
		rows === 3 ? (
			<Text key="lag" wrap="truncate-end">
				{padEnd('lag', labelWidth)}
				<Text bold color={tone}>
					{formatCount(s.lag)} ev
				</Text>
				<Text dimColor> {glyphs.separator} </Text>
				<Text color={tone}>{formatLagSeconds(s.lagSeconds)}</Text>
			</Text>
		) : (
			[
				<Text key="lag" wrap="truncate-end">
					{padEnd('lag', labelWidth)}
					<Text bold color={tone}>
						{formatCount(s.lag)} events
					</Text>
				</Text>,
				<Text key="behind" wrap="truncate-end">
					{padEnd('behind', labelWidth)}
					<Text color={tone}>{formatLagSeconds(s.lagSeconds)}</Text>
				</Text>,
			]
		);
	return (
		<Panel title="queue" extra="replay lag" width={width} rows={rows}>
			{lagLine}
			<Text wrap="truncate-end">
				{padEnd('journal', labelWidth)}
				{formatBytes(s.journalBytes)}
			</Text>
			{rows === 6 ? (
				<Text wrap="truncate-end">
					{padEnd('re-copies', labelWidth)}
					{formatCount(s.recopies)}
				</Text>
			) : null}
			{spark.map((row, index) => (
				<Box key={index}>
					<Text>{padEnd(index === 0 ? 'trend' : '', labelWidth)}</Text>
					<Text color={theme.tone('lag')}>{row}</Text>
					{index === spark.length - 1 ? <Text color={theme.tone(trend.tone)}> {trend.text}</Text> : null}
				</Box>
			))}
		</Panel>
	);
}
