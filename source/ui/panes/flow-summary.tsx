/** The throughput and queue panes folded into two lines, for terminals too small or narrow for sparklines. */
import {Text} from 'ink';
import {useKeyferryShallow, useTheme} from '../console-context';
import {formatBytes, formatCount, formatLagSeconds, formatRate} from '../format';
import {lagTone, queueTrend} from './queue-pane';

export function FlowSummary() {
	const theme = useTheme();
	const {glyphs} = theme;
	const s = useKeyferryShallow((state) => ({
		captureRate: state.stats.captureRate,
		applyRate: state.stats.applyRate,
		copyRate: state.stats.copyRate,
		lag: state.stats.lag,
		lagSeconds: state.stats.lagSeconds,
		journalBytes: state.stats.journalBytes,
		lagHistory: state.history.lag,
	}));
	const sep = ` ${glyphs.separator} `;
	const trend = queueTrend(s.lag, s.lagHistory, glyphs);
	return (
		<>
			<Text wrap="truncate-end">
				<Text bold>rates </Text>
				<Text color={theme.tone('captured')}>captured {formatRate(s.captureRate)}</Text>
				{sep}
				<Text color={theme.tone('applied')}>applied {formatRate(s.applyRate)}</Text>
				{sep}
				<Text color={theme.tone('copied')}>copied {formatRate(s.copyRate)}</Text>
			</Text>
			<Text wrap="truncate-end">
				<Text bold>queue </Text>
				<Text color={theme.tone(lagTone(s.lagSeconds))}>
					lag {formatCount(s.lag)} ev{sep}
					{formatLagSeconds(s.lagSeconds)}
				</Text>{' '}
				<Text color={theme.tone(trend.tone)}>{trend.text}</Text>
				{sep}journal {formatBytes(s.journalBytes)}
			</Text>
		</>
	);
}
