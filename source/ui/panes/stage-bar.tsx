/** Line 2: the stages done, the current one (running, ready or failed) and the ones to come. */
import {Text} from 'ink';
import {Fragment} from 'react';
import {forwardStages, type Stage, type StageStatus} from '../../engine/stages';
import {useKeyferryShallow, useTheme} from '../console-context';
import type {Glyphs} from '../glyphs';
import type {Tone} from '../theme';

export type StageMark = 'done' | 'current' | 'next';

export interface StageItem {
	stage: Stage;
	mark: StageMark;
}

/** The forward path, or the path up to cutover then rollback once a rollback is under way. */
export function stageItems(stage: Stage, completed: readonly Stage[]): StageItem[] {
	const path = stage === 'rollback' ? [...forwardStages.slice(0, forwardStages.indexOf('cutover') + 1), 'rollback' as const] : forwardStages;
	const currentIndex = path.indexOf(stage);
	return path.map((item, index) => ({
		stage: item,
		mark: item === stage ? 'current' : completed.includes(item) || index < currentIndex ? 'done' : 'next',
	}));
}

function currentGlyph(status: StageStatus, glyphs: Glyphs): {glyph: string; tone: Tone} {
	switch (status) {
		case 'ready':
			return {glyph: glyphs.stageReady, tone: 'ok'};
		case 'failed':
			return {glyph: glyphs.stageFailed, tone: 'bad'};
		case 'finished':
			return {glyph: glyphs.stageDone, tone: 'ok'};
		default:
			return {glyph: glyphs.stageCurrent, tone: 'accent'};
	}
}

export function StageBar({width}: {width: number}) {
	const theme = useTheme();
	const {glyphs} = theme;
	const {stage, stageStatus, completedStages} = useKeyferryShallow((s) => ({
		stage: s.stage,
		stageStatus: s.stageStatus,
		completedStages: s.completedStages,
	}));
	const items = stageItems(stage, completedStages);
	const current = currentGlyph(stageStatus, glyphs);
	const glyphOf = (item: StageItem) => (item.mark === 'done' ? glyphs.stageDone : item.mark === 'current' ? current.glyph : glyphs.stageNext);
	const full = items.map((item) => `${glyphOf(item)} ${item.stage}`).join(glyphs.stageJoin);
	// Too narrow for every stage: count the done ones, show the current and the next.
	const shown =
		full.length <= width
			? items
			: items.filter((item, index) => item.mark === 'current' || (item.mark === 'next' && items[index - 1]?.mark === 'current'));
	const doneCount = items.filter((item) => item.mark === 'done').length;
	return (
		<Text wrap="truncate-end">
			{shown.length < items.length && doneCount > 0 ? (
				<Text color={theme.tone('ok')}>
					{glyphs.stageDone} {doneCount} done{glyphs.stageJoin}
				</Text>
			) : null}
			{shown.map((item, index) => (
				<Fragment key={item.stage}>
					{index > 0 ? <Text dimColor>{glyphs.stageJoin}</Text> : null}
					{item.mark === 'done' ? (
						<Text color={theme.tone('ok')}>
							{glyphs.stageDone} {item.stage}
						</Text>
					) : item.mark === 'current' ? (
						<Text bold color={theme.tone(current.tone)}>
							{current.glyph} {item.stage}
						</Text>
					) : (
						<Text dimColor>
							{glyphs.stageNext} {item.stage}
						</Text>
					)}
				</Fragment>
			))}
		</Text>
	);
}
