/** Wall-clock time that ticks once per interval while `active`: the header's elapsed clock. */
import {useEffect, useState} from 'react';

export function useNow(intervalMs: number, active: boolean): number {
	const [now, setNow] = useState(() => Date.now());
	useEffect(() => {
		if (!active) return;
		setNow(Date.now());
		const timer = setInterval(() => setNow(Date.now()), intervalMs);
		return () => clearInterval(timer);
	}, [intervalMs, active]);
	return now;
}
