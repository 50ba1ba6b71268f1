/**
 * A TCP proxy on 127.0.0.1 in front of a registry, for latency benchmarks and connection counting:
 * every chunk is forwarded after `delayMs` in each direction (so a round trip costs 2 × `delayMs`),
 * in order; connections accepted and the most open at once are counted.
 */
import net from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** `127.0.0.1:PORT`, for image references. */
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  /** Connections open now. */
  readonly open: () => number;
  /** Most connections open at once. */
  readonly peakOpen: () => number;
  /** Reset the counters (not the open connections). */
  readonly resetCounts: () => void;
  /** Resolves once no connection is open (rejects after `timeoutMs`). */
  readonly idle: (timeoutMs?: number) => Promise<void>;
  close(): Promise<void>;
}

/** Start a proxy to `target` (`host:port`), delaying each direction by `delayMs` (0: no delay). */
export async function startTcpProxy(target: string, delayMs = 0): Promise<TcpProxy> {
  const at = target.lastIndexOf(':');
  const targetHost = target.slice(0, at);
  const targetPort = Number(target.slice(at + 1));
  let accepted = 0;
  let open = 0;
  let peak = 0;
  const sockets = new Set<net.Socket>();
  const later = (f: () => void): void => {
    if (delayMs <= 0) f();
    else setTimeout(f, delayMs);
  };
  /** Forward `from` to `to` with the delay, ends and errors included (timers of equal delay fire in order). */
  const pipe = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (d: Buffer) => later(() => to.destroyed || to.write(d)));
    from.on('end', () => later(() => to.destroyed || to.end()));
    from.on('error', () => later(() => to.destroy()));
    from.on('close', () => later(() => to.destroy()));
  };
  const server = net.createServer((client) => {
    accepted++;
    open++;
    peak = Math.max(peak, open);
    const upstream = net.connect({ host: targetHost, port: targetPort, noDelay: true });
    // No Nagle: each forwarded chunk goes out at once (else a delayed ACK adds up to 40 ms).
    client.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => {
      open--;
      sockets.delete(client);
    });
    upstream.on('close', () => sockets.delete(upstream));
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    port,
    accepted: () => accepted,
    open: () => open,
    peakOpen: () => peak,
    resetCounts: () => {
      accepted = 0;
      peak = open;
    },
    idle: async (timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      while (open > 0) {
        if (Date.now() > until) throw new Error(`tcp proxy: ${open} connections still open after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A {@link TcpProxy} running in a child process (so it does not share the event loop it measures). */
export interface TcpProxyProcess {
  readonly host: string;
  /** Connections accepted since the last reset, and the most open at once. */
  counts(): Promise<{ accepted: number; peakOpen: number }>;
  /** Wait until no connection is open, then reset the counters. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Start {@link startTcpProxy} in a child Node process (this file runs there, types stripped by Node). */
export async function startTcpProxyProcess(target: string, delayMs = 0): Promise<TcpProxyProcess> {
  const { fork } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const child = fork(fileURLToPath(import.meta.url), ['--tcp-proxy-child', target, String(delayMs)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let seq = 0;
  const pending = new Map<number, (v: unknown) => void>();
  child.on('message', (m: { id: number; value: unknown }) => {
    pending.get(m.id)?.(m.value);
    pending.delete(m.id);
  });
  const ask = <T>(op: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++seq;
      const timer = setTimeout(() => reject(new Error(`tcp proxy process: no answer to ${op}`)), 30_000);
      pending.set(id, (v) => {
        clearTimeout(timer);
        resolve(v as T);
      });
      child.send({ id, op });
    });
  const host = await ask<string>('host');
  return {
    host,
    counts: () => ask('counts'),
    reset: () => ask('reset'),
    close: async () => {
      await ask('close').catch(() => undefined);
      child.kill();
    },
  };
}

// In the child: serve the parent's requests.
if (process.argv[2] === '--tcp-proxy-child' && typeof process.send === 'function') {
  const proxy = await startTcpProxy(process.argv[3] as string, Number(process.argv[4]));
  process.on('message', async (m: { id: number; op: string }) => {
    let value: unknown;
    if (m.op === 'host') value = proxy.host;
    else if (m.op === 'counts') value = { accepted: proxy.accepted(), peakOpen: proxy.peakOpen() };
    else if (m.op === 'reset') {
      await proxy.idle(30_000).catch(() => undefined);
      proxy.resetCounts();
    } else if (m.op === 'close') await proxy.close();
    process.send?.({ id: m.id, value: value ?? null });
    if (m.op === 'close') process.disconnect?.();
  });
}
