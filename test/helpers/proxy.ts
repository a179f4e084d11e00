/**
 * A TCP proxy on 127.0.0.1 in front of a test server, playing the broken network: it can reset
 * every connection it carries (`cut`), and stop forwarding while keeping the sockets open
 * (`freeze`: nothing is lost, TCP holds the bytes until `thaw`), for the connections it carries
 * now only (a half-open connection: new ones work) or for new ones too (the route is down).
 */
import {connect, createServer, type Server, type Socket} from 'node:net';

interface Link {
	client: Socket;
	server: Socket;
	frozen: boolean;
}

export interface TcpProxy {
	port: number;
	url: string;
	/** Connections currently carried. */
	readonly open: number;
	/** Resets every current connection (RST both ways); returns how many. */
	cut(): number;
	/** Stops forwarding on the current connections, and on new ones when `newConnections` is 'hold'. */
	freeze(newConnections?: 'hold' | 'pass'): void;
	/** Forwards again whatever the frozen connections hold. */
	thaw(): void;
	close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
	const links = new Set<Link>();
	let holdNew = false;
	const setFrozen = (link: Link, frozen: boolean) => {
		link.frozen = frozen;
		for (const socket of [link.client, link.server]) {
			if (frozen) socket.pause();
			else socket.resume();
		}
	};
	const server: Server = createServer((client) => {
		const upstream = connect(targetPort, '127.0.0.1');
		const link: Link = {client, server: upstream, frozen: false};
		links.add(link);
		forward(link, client, upstream);
		forward(link, upstream, client);
		const close = () => {
			links.delete(link);
			client.destroy();
			upstream.destroy();
		};
		client.on('close', close);
		upstream.on('close', close);
		client.on('error', () => {});
		upstream.on('error', () => {});
		if (holdNew) setFrozen(link, true);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as {port: number}).port;
	return {
		port,
		url: `redis://127.0.0.1:${port}`,
		get open() {
			return links.size;
		},
		cut() {
			const count = links.size;
			for (const link of [...links]) {
				links.delete(link);
				link.client.resetAndDestroy();
				link.server.resetAndDestroy();
			}
			return count;
		},
		freeze(newConnections = 'hold') {
			holdNew = newConnections === 'hold';
			for (const link of links) setFrozen(link, true);
		},
		thaw() {
			holdNew = false;
			for (const link of links) if (link.frozen) setFrozen(link, false);
		},
		async close() {
			for (const link of [...links]) {
				link.client.destroy();
				link.server.destroy();
			}
			links.clear();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

/** Like pipe, but a frozen link stays paused (pipe would resume it on 'drain'). */
function forward(link: Link, from: Socket, to: Socket): void {
	from.on('data', (chunk: Buffer) => {
		if (!to.write(chunk)) from.pause();
	});
	to.on('drain', () => {
		if (!link.frozen) from.resume();
	});
}
