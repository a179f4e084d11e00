/** Line 3: the copy's progress bar with keys, percent, rate and ETA. */
import {Text} from 'ink';
import {useKeyferryShallow, useTheme} from '../console-context';
import {etaSeconds, formatCompact, formatCount, formatDuration, formatPercent, formatRate} from '../format';

export type CopyPhase = 'waiting' | 'copying' | 'copied';

export function copyPhase(stage: string, completed: readonly string[]): CopyPhase {
	if (stage === 'copy') return 'copying';
	if (completed.includes('copy') || ['sync', 'verify', 'cutover', 'done', 'rollback'].includes(stage)) return 'copied';
	return 'waiting';
}

export function CopyProgress({width}: {width: number}) {
	const theme = useTheme();
	const {glyphs} = theme;
	const s = useKeyferryShallow((state) => ({
		stage: state.stage,
		completed: state.completedStages,
		keysCopied: state.stats.keysCopied,
		keysTotal: state.stats.keysTotal,
		copyRate: state.stats.copyRate,
		recopies: state.stats.recopies,
		paused: state.copy.paused,
		rateLimit: state.copy.rateLimit,
	}));
	const phase = copyPhase(s.stage, s.completed);
	const total = Math.max(s.keysTotal, s.keysCopied);
	const count = width >= 100 ? formatCount : formatCompact;
	const label = 'copy ';
	let percent = formatPercent(s.keysCopied, total);
	let detail: string;
	let tail = '';
	if (phase === 'waiting') {
		percent = '';
		detail = total > 0 ? `~${count(total)} keys ${glyphs.separator} starts after capture` : 'starts after capture';
	} else if (phase === 'copied') {
		percent = formatPercent(1, 1);
		detail = `${count(s.keysCopied)} keys copied`;
		if (s.recopies > 0) tail = ` ${glyphs.separator} ${count(s.recopies)} re-copied`;
	} else {
		detail = `${count(s.keysCopied)}/${count(total)} keys`;
		if (s.paused) tail = ` ${glyphs.separator} paused`;
		else {
			const eta = etaSeconds(total - s.keysCopied, s.copyRate);
			tail = ` ${glyphs.separator} ${formatRate(s.copyRate)} ${glyphs.separator} ETA ${eta === null ? glyphs.none : formatDuration(eta)}`;
		}
		if (s.rateLimit !== null) tail += ` ${glyphs.separator} limit ${formatRate(s.rateLimit)}`;
	}
	const text = `${percent ? ` ${percent.padStart(6)}` : ''}  ${detail}${tail}`;
	const barWidth = Math.max(10, Math.min(60, width - label.length - text.length));
	const ratio = phase === 'copied' ? 1 : total > 0 ? Math.min(1, s.keysCopied / total) : 0;
	const filled = Math.floor(ratio * barWidth);
	const barTone = phase === 'copied' ? 'ok' : s.paused ? 'warn' : 'accent';
	return (
		<Text wrap="truncate-end">
			<Text bold>{label}</Text>
			<Text color={theme.tone(barTone)}>{glyphs.barFull.repeat(filled)}</Text>
			<Text dimColor>{glyphs.barEmpty.repeat(barWidth - filled)}</Text>
			<Text bold>{percent ? ` ${percent.padStart(6)}` : ''}</Text>
			<Text>{`  ${detail}`}</Text>
			<Text color={s.paused && phase === 'copying' ? theme.tone('warn') : undefined} dimColor={!s.paused}>
				{tail}
			</Text>
		</Text>
	);
}
