/**
 * Parses `redis://[user:pass@]host:port[/db]` and `rediss://…` into a NodeEndpoint. A bare
 * `host:port` is read as redis://. Every problem is a UsageError naming the flag, and no message
 * ever repeats the password.
 */
import {UsageError} from '../errors';
import {inputText} from './input-text';
import type {NodeEndpoint} from '../redis/endpoint';

export interface ParsedRedisUrl {
	endpoint: NodeEndpoint;
	/** The URL carried a db path (/3). */
	explicitDb: boolean;
}

const maxDb = 10_000;

export function parseRedisUrl(raw: string, flag: string): ParsedRedisUrl {
	const text = raw.trim();
	if (text === '') throw new UsageError(`${flag} is empty; expected redis://[user:pass@]host:port[/db]`);
	const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `redis://${text}`;
	// A URL parser would end the user info at such a character and read the rest of the password as host, path or query.
	const userInfo = withScheme.slice(withScheme.indexOf('//') + 2, Math.max(withScheme.lastIndexOf('@'), 0));
	if (/[/?#]/.test(userInfo)) {
		throw new UsageError(`${flag}: a "/", "?" or "#" in the user name or password must be percent-encoded (%2F, %3F, %23): ${inputText(text)}`);
	}
	let url: URL;
	try {
		url = new URL(withScheme);
	} catch {
		throw new UsageError(`${flag} is not a valid URL (${inputText(text)}); expected redis://[user:pass@]host:port[/db]`);
	}
	const scheme = url.protocol.replace(/:$/, '').toLowerCase();
	if (scheme !== 'redis' && scheme !== 'rediss') {
		throw new UsageError(`${flag} must start with redis:// or rediss://, not ${scheme}://`);
	}
	const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
	if (host === '') throw new UsageError(`${flag} has no host (${inputText(text)})`);
	let port = 6379;
	if (url.port !== '') {
		port = Number(url.port);
		if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`${flag} has an invalid port ${url.port}`);
	} else if (/:\d*$/.test(url.host) && !url.host.endsWith(']')) {
		// new URL() drops an explicit port 0 or an empty port silently; an operator typo must not be hidden.
		throw new UsageError(`${flag} has an invalid port in ${inputText(text)}`);
	}
	const path = url.pathname.replace(/^\//, '');
	let db = 0;
	if (path !== '') {
		if (!/^\d+$/.test(path) || Number(path) > maxDb) throw new UsageError(`${flag} has an invalid db "/${inputText(path)}"; expected a number like /0`);
		db = Number(path);
	}
	if (url.search !== '' || url.hash !== '') throw new UsageError(`${flag} must not carry query options (${inputText(text)})`);
	const username = url.username === '' ? undefined : decode(url.username, flag);
	const password = url.password === '' ? undefined : decode(url.password, flag);
	return {
		endpoint: {
			host,
			port,
			db,
			...(username !== undefined ? {username} : {}),
			...(password !== undefined ? {password} : {}),
			...(scheme === 'rediss' ? {tls: {rejectUnauthorized: true}} : {}),
		},
		explicitDb: path !== '',
	};
}

function decode(text: string, flag: string): string {
	try {
		return decodeURIComponent(text);
	} catch {
		throw new UsageError(`${flag} has a badly escaped user or password`);
	}
}
