/**
 * When another console asks this one (the holder) for the controls, the question opens as a
 * dialog as soon as no other dialog is open; it closes again if the request goes away (granted
 * for want of an answer, or the asker detached).
 */
import {useEffect} from 'react';
import {useConsole, useKeyferry, useUi} from '../console-context';

export function usePairRequest(): void {
	const {ui} = useConsole();
	const request = useKeyferry((state) => state.pair.request);
	const holder = useKeyferry((state) => state.pair.holder);
	const self = useUi((state) => state.self);
	const dialog = useUi((state) => state.dialog);
	useEffect(() => {
		const asked = request !== null && holder !== null && holder === self;
		if (dialog?.kind === 'handover' && (!asked || dialog.from !== request)) ui.setState({dialog: null});
		else if (asked && dialog === null) ui.setState({dialog: {kind: 'handover', from: request}, help: false});
	}, [request, holder, self, dialog, ui]);
}
