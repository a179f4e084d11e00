/**
 * Just enough RESP for the capture's own connections: encode commands, read the simple replies of a
 * handshake (+, -, :, $), and open a plain or TLS socket to an endpoint.
 */
import {connect as netConnect, isIP, type Socket} from 'node:net';
import {connect as tlsConnect} from 'node:tls';
import type {NodeEndpoint} from '../redis/endpoint';

export type Reply = {kind: 'ok'; value: string} | {kind: 'error'; value: string};

export function encodeCommand(args: (string | Buffer)[]): Buffer {
	const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
	for (const arg of args) {
		const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
		parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
	}
	return Buffer.concat(parts);
}

/** Parses one reply at `pos`; null when more bytes are needed. Arrays are not expected here. */
export function readReply(buf: Buffer, pos: number): {reply: Reply; next: number} | null {
	const lineEnd = buf.indexOf('\r\n', pos);
	if (lineEnd === -1) return null;
	const type = buf[pos];
	const text = buf.toString('utf8', pos + 1, lineEnd);
	switch (type) {
		case 0x2b: // +
		case 0x3a: // :
			return {reply: {kind: 'ok', value: text}, next: lineEnd + 2};
		case 0x2d: // -
			return {reply: {kind: 'error', value: text}, next: lineEnd + 2};
		case 0x24: {
			// $
			const length = Number(text);
			if (length < 0) return {reply: {kind: 'ok', value: ''}, next: lineEnd + 2};
			if (buf.length < lineEnd + 2 + length + 2) return null;
			return {reply: {kind: 'ok', value: buf.toString('utf8', lineEnd + 2, lineEnd + 2 + length)}, next: lineEnd + 2 + length + 2};
		}
		default:
			return {reply: {kind: 'error', value: `unexpected reply ${JSON.stringify(buf.toString('latin1', pos, Math.min(lineEnd, pos + 40)))}`}, next: lineEnd + 2};
	}
}

/** Connects (TCP or TLS) and resolves once the socket is ready for commands. */
export function openSocket(endpoint: NodeEndpoint, timeoutMs: number): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const tls = endpoint.tls;
		const socket: Socket = tls
			? tlsConnect({
					host: endpoint.host,
					port: endpoint.port,
					ca: tls.ca,
					rejectUnauthorized: tls.rejectUnauthorized,
					servername: tls.servername ?? (isIP(endpoint.host) ? undefined : endpoint.host),
				})
			: netConnect({host: endpoint.host, port: endpoint.port});
		const timer = setTimeout(() => fail(new Error(`no connection within ${timeoutMs} ms`)), timeoutMs);
		const fail = (error: Error) => {
			clearTimeout(timer);
			socket.destroy();
			reject(error);
		};
		socket.once('error', fail);
		socket.once(tls ? 'secureConnect' : 'connect', () => {
			clearTimeout(timer);
			socket.off('error', fail);
			socket.setNoDelay(true);
			socket.setKeepAlive(true, 5000);
			resolve(socket);
		});
	});
}

/**
 * Sends `commands` pipelined and collects one reply per command. Bytes after the last reply are
 * handed back untouched (after MONITOR they are already feed) and the socket is left paused.
 */
export function handshake(socket: Socket, commands: (string | Buffer)[][], timeoutMs: number): Promise<{replies: Reply[]; rest: Buffer}> {
	return new Promise((resolve, reject) => {
		let buf: Buffer = Buffer.alloc(0);
		const replies: Reply[] = [];
		const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
		const finish = (error: Error | null, rest?: Buffer) => {
			clearTimeout(timer);
			// Paused until the caller installs its own handler: no byte after the last reply is lost.
			socket.pause();
			socket.off('data', onData);
			socket.off('error', onError);
			socket.off('close', onClose);
			if (error) reject(error);
			else resolve({replies, rest: rest ?? Buffer.alloc(0)});
		};
		const onData = (chunk: Buffer) => {
			buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
			let pos = 0;
			while (replies.length < commands.length) {
				const parsed = readReply(buf, pos);
				if (!parsed) break;
				replies.push(parsed.reply);
				pos = parsed.next;
			}
			if (replies.length === commands.length) finish(null, buf.subarray(pos));
			else buf = buf.subarray(pos);
		};
		const onError = (error: Error) => finish(error);
		const onClose = () => finish(new Error('connection closed during the handshake'));
		socket.on('data', onData);
		socket.on('error', onError);
		socket.on('close', onClose);
		socket.write(Buffer.concat(commands.map(encodeCommand)));
	});
}

/** AUTH command for an endpoint, or null when it has no password. */
export function authCommand(endpoint: NodeEndpoint): string[] | null {
	if (endpoint.password === undefined || endpoint.password === '') return null;
	return endpoint.username ? ['AUTH', endpoint.username, endpoint.password] : ['AUTH', endpoint.password];
}

/** `addr=` of a CLIENT INFO reply. */
export function addressFromClientInfo(info: string): string | null {
	return /(?:^|\s)addr=(\S+)/.exec(info)?.[1] ?? null;
}

export function errorMessage(error: unknown): string {
	const text = error instanceof Error ? error.message : String(error);
	return text.replace(/\s*\n\s*/g, ' ');
}
