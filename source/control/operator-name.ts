/** How a console is named to the others in a pair-run: $USER@host (the server adds #id). */
import {hostname, userInfo} from 'node:os';

export function operatorName(env: NodeJS.ProcessEnv): string {
	let user = env['USER'] || env['LOGNAME'] || '';
	if (!user) {
		try {
			user = userInfo().username;
		} catch {
			user = 'operator';
		}
	}
	const host = hostname().split('.')[0] || 'localhost';
	// Shown in every console and log line: printable ASCII only, and short.
	return `${user}@${host}`.replace(/[^\x21-\x7e]/g, '?').slice(0, 48);
}
