/**
 * Real redis-server processes for tests, on free loopback ports, each in its own temp dir.
 * Every server started here is also registered for a process-exit kill, so a failing test file
 * never leaves servers behind. Use `startStandalone` / `startCluster` in beforeAll and `stop()` in
 * afterAll.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import Redis from 'ioredis';

export interface TestServer {
	port: number;
	url: string;
	dir: string;
	/** The running redis-server (a new one after restart()). */
	readonly process: ChildProcess;
	/** A fresh ioredis client to this server; closed by stop(). */
	client(): Redis;
	/**
	 * Stops the server (SIGTERM: a clean shutdown, which writes the AOF when `--appendonly yes`;
	 * SIGKILL: a crash), waits `downMs`, and starts it again on the same port and directory.
	 */
	restart(options?: {signal?: 'SIGTERM' | 'SIGKILL'; downMs?: number}): Promise<void>;
	stop(): Promise<void>;
}

export interface TestCluster {
	masters: TestServer[];
	replicas: TestServer[];
	/** Seed URL (first master). */
	url: string;
	stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
	for (const child of live) child.kill('SIGKILL');
});

export const redisServerBinary = process.env['KEYFERRY_REDIS_SERVER'] ?? 'redis-server';

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			if (address === null || typeof address === 'string') {
				reject(new Error('no port'));
				return;
			}
			server.close(() => resolve(address.port));
		});
	});
}

export interface StartOptions {
	/** Extra redis-server arguments, e.g. ['--requirepass', 'secret']. */
	args?: string[];
	password?: string;
	/** Serve TLS only (test/helpers/tls.ts makes the files); the URL is then rediss://. */
	tls?: {ca: string; cert: string; key: string};
}

export async function startStandalone(options: StartOptions = {}): Promise<TestServer> {
	for (let attempt = 0; attempt < 5; attempt++) {
		const port = await freePort();
		try {
			return await launch(port, options);
		} catch (error) {
			if (attempt === 4) throw error;
		}
	}
	throw new Error('unreachable');
}

async function launch(port: number, options: StartOptions): Promise<TestServer> {
	const dir = mkdtempSync(join(tmpdir(), 'keyferry-redis-'));
	const tls = options.tls;
	const args = [
		...(tls
			? ['--tls-port', String(port), '--port', '0', '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no']
			: ['--port', String(port)]),
		'--bind', '127.0.0.1',
		'--dir', dir,
		'--save', '',
		'--appendonly', 'no',
		'--daemonize', 'no',
		'--loglevel', 'warning',
		'--logfile', join(dir, 'redis.log'),
		...(options.password ? ['--requirepass', options.password] : []),
		...(options.args ?? []),
	];
	const clients: Redis[] = [];
	const tlsOptions = tls ? {tls: {ca: readFileSync(tls.ca)}} : {};
	let child!: ChildProcess;
	let exited = false;
	const spawnServer = () => {
		const started = spawn(redisServerBinary, args, {stdio: 'ignore'});
		child = started;
		exited = false;
		live.add(started);
		started.on('exit', () => {
			if (child === started) exited = true;
			live.delete(started);
		});
	};
	const kill = async (signal: NodeJS.Signals) => {
		if (exited) return;
		const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
		child.kill(signal);
		await done;
	};
	spawnServer();
	const server: TestServer = {
		port,
		url: `${tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
		dir,
		get process() {
			return child;
		},
		client() {
			const client = new Redis({host: '127.0.0.1', port, password: options.password, lazyConnect: false, maxRetriesPerRequest: 2, ...tlsOptions});
			// Tests kill servers on purpose; a client's reconnect errors must not flood the output.
			client.on('error', () => {});
			clients.push(client);
			return client;
		},
		async restart({signal = 'SIGTERM', downMs = 0} = {}) {
			await kill(signal);
			if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
			spawnServer();
			await waitForPing(port, options.password, tlsOptions, () => exited);
		},
		async stop() {
			for (const client of clients) client.disconnect();
			await kill('SIGKILL');
			rmSync(dir, {recursive: true, force: true});
		},
	};
	await waitForPing(port, options.password, tlsOptions, () => exited);
	return server;
}

async function waitForPing(port: number, password: string | undefined, tlsOptions: {tls?: {ca: Buffer}}, exited: () => boolean): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (Date.now() < deadline) {
		if (exited()) throw new Error(`redis-server on port ${port} exited at start`);
		const client = new Redis({host: '127.0.0.1', port, password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, ...tlsOptions});
		client.on('error', () => {});
		try {
			await client.connect();
			await client.ping();
			client.disconnect();
			return;
		} catch {
			client.disconnect();
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}
	throw new Error(`redis-server on port ${port} did not answer within 10 s`);
}

/** A replica of `primary` (standalone replication), once its link is up and the first sync is done. */
export async function startReplica(primary: TestServer, options: StartOptions = {}): Promise<TestServer> {
	// The first sync starts at once instead of after the default 5 s diskless delay.
	await primary.client().config('SET', 'repl-diskless-sync-delay', '0');
	const replica = await startStandalone({...options, args: ['--replicaof', '127.0.0.1', String(primary.port), ...(options.args ?? [])]});
	const client = replica.client();
	await waitFor(async () => (await client.info('replication')).includes('master_link_status:up'), `replica ${replica.port} to sync`);
	return replica;
}

export interface ClusterOptions extends StartOptions {
	masters?: number;
	replicasPerMaster?: number;
}

/** A cluster of `masters` (default 3) masters, slots split evenly, optionally with replicas. */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
	const masterCount = options.masters ?? 3;
	const replicasPerMaster = options.replicasPerMaster ?? 0;
	const clusterArgs = ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', ...(options.args ?? [])];
	const masters: TestServer[] = [];
	const replicas: TestServer[] = [];
	const stopAll = async () => {
		await Promise.all([...masters, ...replicas].map((server) => server.stop()));
	};
	try {
		for (let i = 0; i < masterCount; i++) {
			const server = await startStandalone({...options, args: [...clusterArgs, '--cluster-config-file', 'nodes.conf']});
			masters.push(server);
		}
		for (let i = 0; i < masterCount * replicasPerMaster; i++) {
			replicas.push(await startStandalone({...options, args: [...clusterArgs, '--cluster-config-file', 'nodes.conf']}));
		}
		const all = [...masters, ...replicas];
		const admin = all.map((server) => server.client());
		const perMaster = Math.floor(16384 / masterCount);
		await Promise.all(
			masters.map((_, i) => {
				const first = i * perMaster;
				const last = i === masterCount - 1 ? 16383 : first + perMaster - 1;
				return admin[i]!.call('CLUSTER', 'ADDSLOTSRANGE', String(first), String(last));
			}),
		);
		for (let i = 1; i < all.length; i++) {
			await admin[i]!.call('CLUSTER', 'MEET', '127.0.0.1', String(all[0]!.port));
		}
		await waitFor(async () => {
			const views = await Promise.all(admin.map((client) => client.call('CLUSTER', 'NODES') as Promise<string>));
			return views.every((view) => view.trim().split('\n').length === all.length);
		}, 'cluster nodes to meet');
		const masterIds = await Promise.all(masters.map((_, i) => admin[i]!.call('CLUSTER', 'MYID') as Promise<string>));
		for (let r = 0; r < replicas.length; r++) {
			await admin[masterCount + r]!.call('CLUSTER', 'REPLICATE', masterIds[r % masterCount]!);
		}
		await waitFor(async () => {
			const infos = await Promise.all(admin.map((client) => client.call('CLUSTER', 'INFO') as Promise<string>));
			return infos.every((info) => info.includes('cluster_state:ok'));
		}, 'cluster_state:ok');
		if (replicas.length > 0) {
			await waitFor(async () => {
				const infos = await Promise.all(admin.slice(masterCount).map((client) => client.info('replication')));
				return infos.every((info) => info.includes('master_link_status:up'));
			}, 'replicas to sync');
		}
		return {masters, replicas, url: masters[0]!.url, stop: stopAll};
	} catch (error) {
		await stopAll();
		throw error;
	}
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (await check()) return;
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
	throw new Error(`timed out waiting for ${what}`);
}
