/**
 * The last lines: what the stage is doing or waiting for (and that Enter advances it once ready),
 * then the keys available right now, drawn from the keymap; a key's feedback replaces them briefly.
 */
import {Box, Text} from 'ink';
import {Fragment} from 'react';
import {nextStage} from '../../engine/stages';
import {useKeyferryShallow, useTheme, useUi} from '../console-context';
import {modeOf, pickShortcutState, shortcutsFor, type Mode, type ShortcutState} from '../keymap';
import {printable} from '../printable';
import {workingOn} from '../stage-text';
import type {Theme, Tone} from '../theme';
import type {UiState} from '../ui-store';

export interface StatusText {
	glyph: string;
	tone: Tone;
	text: string;
}

export function statusText(s: ShortcutState & {stageDetail: string}, theme: Theme): StatusText {
	const {glyphs} = theme;
	const detail = printable(s.stageDetail, theme.ascii);
	if (s.exitCode !== null) {
		const reason = s.exitCode === 0 ? 'migration over' : s.exitCode === 3 ? 'discrepancies found' : s.exitCode === 130 ? 'aborted' : 'failed';
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
			const advance = next ? ` ${glyphs.separator} press Enter to advance to ${next}` : '';
			return {glyph: glyphs.stageReady, tone: 'ok', text: `${s.stage} is ready${detail ? `: ${detail}` : ''}${advance}`};
		}
		default:
			return {glyph: glyphs.stageCurrent, tone: 'accent', text: `${s.stage}: ${detail || workingOn[s.stage]}`};
	}
}

export function KeyHints({mode, state, ui}: {mode: Mode; state: ShortcutState; ui: UiState}) {
	const theme = useTheme();
	const hints = shortcutsFor(mode).filter((shortcut) => shortcut.hint && shortcut.available(state, ui) === true);
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
	const status = statusText(state, theme);
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
			{keysLine ? noticeLine ?? <KeyHints mode={modeOf(ui)} state={state} ui={ui} /> : null}
		</Box>
	);
}
