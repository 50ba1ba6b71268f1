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
