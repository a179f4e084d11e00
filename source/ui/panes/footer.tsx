/**
 * The last lines: what the stage is doing or waiting for (and that Enter advances it once ready),
 * then the keys available right now, drawn from the keymap; a key's feedback replaces them briefly.
 */
import {Box, Text, useStdin} from 'ink';
import {Fragment} from 'react';
import {holds, nameOf} from '../../control/pair';
import {nextStage} from '../../engine/stages';
import {useKeyferry, useKeyferryShallow, useTheme, useUi} from '../console-context';
import type {Glyphs} from '../glyphs';
import {modeOf, pickShortcutState, shortcutsFor, type Mode, type Shortcut, type ShortcutState} from '../keymap';
import {printable} from '../printable';
import {summaryText} from './log-pane';
import {workingOn} from '../stage-text';
import type {Theme, Tone} from '../theme';
import type {UiState} from '../ui-store';

export interface StatusText {
	glyph: string;
	tone: Tone;
	text: string;
}

/** README "Exit codes". */
const exitReasons: Record<number, string> = {0: 'clean exit', 1: 'runtime failure', 2: 'bad usage or input', 3: 'discrepancies found', 130: 'aborted'};

/** `holder`: who else may advance, when this console only watches. */
export function statusText(s: ShortcutState & {stageDetail: string}, theme: Theme, holder: string | null = null): StatusText {
	const {glyphs} = theme;
	const detail = printable(s.stageDetail, theme.ascii);
	if (s.exitCode !== null) {
		const reason = exitReasons[s.exitCode] ?? 'failed';
		return {glyph: s.exitCode === 0 ? glyphs.stageDone : glyphs.stageFailed, tone: s.exitCode === 0 ? 'ok' : 'bad', text: `keyferry exited with code ${s.exitCode}: ${reason}`};
	}
	if (s.stopping) return {glyph: glyphs.stageCurrent, tone: 'warn', text: 'stopping: draining to a barrier, then exiting'};
	switch (s.stageStatus) {
		case 'failed':
			return {glyph: glyphs.stageFailed, tone: 'bad', text: `${s.stage} failed${detail ? `: ${detail}` : ''} ${glyphs.separator} q to quit`};
		case 'finished':
			return {glyph: glyphs.stageDone, tone: 'ok', text: `${s.stage} finished${detail ? `: ${detail}` : ''}`};
		case 'ready': {
			const next = nextStage(s.stage);
			const advance = !next ? '' : holder === null ? ` ${glyphs.separator} press Enter to advance to ${next}` : ` ${glyphs.separator} ${holder} may advance to ${next}`;
			return {glyph: glyphs.stageReady, tone: 'ok', text: `${s.stage} is ready${detail ? `: ${detail}` : ''}${advance}`};
		}
		default:
			return {glyph: glyphs.stageCurrent, tone: 'accent', text: `${s.stage}: ${detail || workingOn[s.stage]}`};
	}
}

/**
 * The available keys of a mode, as "key label" pairs. When they do not fit, the ones just before
 * `?` and `q` give way first: those two always show, so every other key stays discoverable.
 */
export function fitHints(hints: readonly Shortcut[], width: number, state: ShortcutState, glyphs: Glyphs): Shortcut[] {
	const fitted = [...hints];
	const length = () => fitted.reduce((sum, shortcut, index) => sum + (index > 0 ? 2 : 0) + shortcut.keys(glyphs).length + 1 + shortcut.label(state).length, 0);
	while (length() > width && fitted.length > 2) fitted.splice(fitted.length - 3, 1);
	return fitted;
}

export function KeyHints({mode, state, ui, width}: {mode: Mode; state: ShortcutState; ui: UiState; width: number}) {
	const theme = useTheme();
	const {isRawModeSupported} = useStdin();
	if (!isRawModeSupported) {
		return (
			<Text wrap="truncate-end" dimColor>
				stdin is not a terminal: keys are off; Ctrl+C (SIGINT) still drains and stops
			</Text>
		);
	}
	const available = shortcutsFor(mode).filter((shortcut) => shortcut.hint && shortcut.available(state, ui) === true);
	const hints = fitHints(available, width, state, theme.glyphs);
	return (
		<Text wrap="truncate-end">
			{hints.map((shortcut, index) => (
				<Fragment key={shortcut.id}>
					{index > 0 ? <Text dimColor>{'  '}</Text> : null}
					<Text bold color={theme.tone('accent')}>
						{shortcut.keys(theme.glyphs)}
					</Text>
					<Text dimColor> {shortcut.label(state)}</Text>
				</Fragment>
			))}
		</Text>
	);
}

export function useShortcutState(): ShortcutState & {stageDetail: string} {
	return useKeyferryShallow((state) => ({...pickShortcutState(state), stageDetail: state.stageDetail}));
}

export function Footer({width, keysLine}: {width: number; keysLine: boolean}) {
	const theme = useTheme();
	const state = useShortcutState();
	const ui = useUi((u) => u);
	const watching = !holds(state.pair, ui.self);
	const status = statusText(state, theme, watching ? printable(nameOf(state.pair, state.pair.holder), theme.ascii) : null);
	const feed = useKeyferry((s) => s.feed);
	const summary = state.exitCode === null ? undefined : feed.findLast((entry) => entry.event.type === 'summary')?.event;
	const notice = ui.notice;
	const noticeLine = notice ? (
		<Text wrap="truncate-end" color={theme.tone(notice.tone === 'info' ? 'accent' : notice.tone)}>
			{theme.glyphs.selected} {printable(notice.text, theme.ascii)}
		</Text>
	) : null;
	return (
		<Box flexDirection="column" width={width}>
			{!keysLine && noticeLine ? (
				noticeLine
			) : (
				<Text wrap="truncate-end" color={theme.tone(status.tone)} bold={state.stageStatus === 'ready' || state.exitCode !== null}>
					{status.glyph} {status.text}
				</Text>
			)}
			{keysLine && state.exitCode !== null ? (
				<Text wrap="truncate-end" dimColor>
					{summary?.type === 'summary' ? summaryText(summary, theme.glyphs) : ''}
				</Text>
			) : null}
			{keysLine && state.exitCode === null ? noticeLine ?? <KeyHints mode={modeOf(ui)} state={state} ui={ui} width={width} /> : null}
		</Box>
	);
}
