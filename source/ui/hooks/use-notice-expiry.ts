/** A notice (a key's feedback) fades after a few seconds. */
import {useEffect} from 'react';
import {useConsole, useUi} from '../console-context';

export const noticeMs = 4000;

export function useNoticeExpiry(): void {
	const {ui} = useConsole();
	const notice = useUi((state) => state.notice);
	useEffect(() => {
		if (!notice) return;
		const timer = setTimeout(() => {
			if (ui.getState().notice?.id === notice.id) ui.setState({notice: null});
		}, noticeMs);
		return () => clearTimeout(timer);
	}, [notice, ui]);
}
