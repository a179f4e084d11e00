/**
 * The operator console: header, stage bar, copy progress, panes, health, log and footer, sized to
 * stay shorter than the terminal. Views (help, discrepancy list, rollback preview) replace the panes;
 * dialogs replace the footer.
 */
import {Box} from 'ink';
import {useMemo} from 'react';
import type {KeyferryStore} from '../engine/store';
import {ConsoleProvider, useKeyferry, useUi} from './console-context';
import type {ConsoleOptions} from './console-options';
import {AdvanceDialog} from './dialogs/advance-dialog';
import {dialogLines} from './dialogs/dialog-lines';
import {PairDialogPanel} from './dialogs/pair-dialogs';
import {QuitDialog} from './dialogs/quit-dialog';
import {TypedDialog} from './dialogs/typed-dialog';
import {useKeyboard} from './hooks/use-keyboard';
import {useNoticeExpiry} from './hooks/use-notice-expiry';
import {usePairRequest} from './hooks/use-pair-request';
import {useTerminalSize} from './hooks/use-terminal-size';
import {planLayout, type Body, type Layout} from './layout';
import {CopyProgress} from './panes/copy-progress';
import {DiscrepanciesPane} from './panes/discrepancies-pane';
import {FlowSummary} from './panes/flow-summary';
import {Footer} from './panes/footer';
import {Header} from './panes/header';
import {HealthLines} from './panes/health-line';
import {LogPane} from './panes/log-pane';
import {QueuePane} from './panes/queue-pane';
import {StageBar} from './panes/stage-bar';
import {ThroughputPane} from './panes/throughput-pane';
import {createTheme} from './theme';
import {createUiStore, type UiStore} from './ui-store';
import {DiscrepancyList} from './views/discrepancy-list';
import {HelpOverlay} from './views/help-overlay';
import {RollbackPreview} from './views/rollback-preview';

export interface AppProps {
	store: KeyferryStore;
	options: ConsoleOptions;
	/** Tests pass one to start in a given view or dialog. */
	ui?: UiStore;
}

export function App({store, options, ui}: AppProps) {
	const value = useMemo(
		() => ({store, ui: ui ?? createUiStore(), theme: createTheme(options)}),
		[store, ui, options.ascii, options.color],
	);
	return (
		<ConsoleProvider value={value}>
			<Console />
		</ConsoleProvider>
	);
}

function Console() {
	useKeyboard();
	useNoticeExpiry();
	usePairRequest();
	const {columns, rows} = useTerminalSize();
	const view = useUi((u) => u.view);
	const help = useUi((u) => u.help);
	const dialog = useUi((u) => u.dialog);
	const discrepancyCount = useKeyferry((s) => s.discrepancies.length);
	const body: Body = help ? 'help' : view;
	const layout = planLayout({rows, columns, body, dialogLines: dialog ? dialogLines(dialog) : null, discrepancyCount});
	const {width} = layout;
	return (
		<Box flexDirection="column" width={width} height={layout.height} overflow="hidden">
			<Header width={width} />
			<StageBar width={width} />
			{body === 'main' ? <Dashboard layout={layout} /> : null}
			{body === 'help' ? <HelpOverlay width={width} lines={layout.bodyLines} /> : null}
			{body === 'discrepancies' ? <DiscrepancyList width={width} lines={layout.bodyLines} /> : null}
			{body === 'rollback' ? <RollbackPreview width={width} lines={layout.bodyLines} /> : null}
			<Box flexGrow={1} />
			{dialog?.kind === 'advance' ? <AdvanceDialog dialog={dialog} width={width} /> : null}
			{dialog?.kind === 'typed' ? <TypedDialog dialog={dialog} width={width} /> : null}
			{dialog?.kind === 'quit' ? <QuitDialog width={width} /> : null}
			{dialog?.kind === 'detach' || dialog?.kind === 'handover' || dialog?.kind === 'give' ? <PairDialogPanel dialog={dialog} width={width} /> : null}
			{dialog ? null : <Footer width={width} keysLine={layout.keysLine} />}
		</Box>
	);
}

function Dashboard({layout}: {layout: Layout}) {
	const {width} = layout;
	const throughputWidth = Math.floor(width * 0.58);
	return (
		<>
			<CopyProgress width={width} />
			{layout.panes === 'tall' || layout.panes === 'normal' ? (
				<Box>
					<ThroughputPane width={throughputWidth} sparkRows={layout.panes === 'tall' ? 2 : 1} />
					<QueuePane width={width - throughputWidth} rows={layout.panes === 'tall' ? 6 : 3} />
				</Box>
			) : null}
			{layout.panes === 'compact' ? <FlowSummary /> : null}
			{layout.discrepancyRows > 0 ? <DiscrepanciesPane width={width} rows={layout.discrepancyRows} /> : null}
			{layout.healthLines > 0 ? <HealthLines lines={layout.healthLines === 1 ? 1 : 2} /> : null}
			{layout.logLines > 0 ? <LogPane width={width} lines={layout.logLines} /> : null}
		</>
	);
}
