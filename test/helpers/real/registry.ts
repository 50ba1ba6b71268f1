/**
 * A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) started on
 * 127.0.0.1 on a free port with its own temporary storage, deletes enabled. Two variants:
 * plain HTTP without auth, and HTTPS (self-signed CA made with openssl) with htpasswd (bcrypt) basic
 * auth. Install with `bash scripts/install-deps.sh`.
 *
 * ```ts
 * const reg = await startRegistry();                       // http://127.0.0.1:PORT
 * const sec = await startRegistry({ tls: true, auth: true }); // https, caFile/username/password set
 * await reg.stop();
 * ```
 */
import { rmSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { httpRequest, waitFor } from './http.js';
import { realTools, runOk, spawnDaemon, onProcessExit, type Daemon } from './proc.js';

export { realToolsAvailable, missingRealTools, skipReal, inCI } from './proc.js';

/** Options of {@link startRegistry}. */
export interface RegistryOptions {
  /** Serve HTTPS with a certificate for 127.0.0.1/localhost signed by a fresh test CA. */
  tls?: boolean;
  /** With `tls`: require a client certificate signed by the test CA (mutual TLS); one is made for the tests. */
  mtls?: boolean;
  /** Require htpasswd basic auth (user `tester`, random password unless given). */
  auth?: boolean;
  username?: string;
  password?: string;
  /** Registry log level (default `warn`; `debug` shows every request). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

/** A running registry. */
export interface RealRegistry {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`, as used in image references. */
  host: string;
  port: number;
  /** PEM of the CA that signed the registry's certificate (TLS variant). */
  caFile?: string;
  /** Client certificate and key accepted by the registry (mutual TLS variant). */
  clientCertFile?: string;
  clientKeyFile?: string;
  /** A folder holding only `ca.crt`, for skopeo's `--src-cert-dir`/`--dest-cert-dir` (TLS variant). */
  certDir?: string;
  username?: string;
  password?: string;
  /** Temporary folder with storage, config and certificates (removed by stop). */
  dir: string;
  /** The registry's recent log output. */
  log(): string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (free when asked; the registry binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Files of a test CA and a server certificate signed by it. */
export interface TestCertificates {
  caFile: string;
  caKeyFile: string;
  certFile: string;
  keyFile: string;
  /** Folder with `ca.crt` only (containers/image cert-dir layout). */
  certDir: string;
}

/**
 * Makes a P-256 test CA and a server certificate for `127.0.0.1` and `localhost` with openssl,
 * in `dir`.
 */
export async function makeTestCertificates(dir: string, hosts: { ips?: string[]; dns?: string[] } = {}): Promise<TestCertificates> {
  await mkdir(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const ossl = (args: string[]) => runOk(realTools.openssl, args, { timeoutMs: 30_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await ossl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '7',
    '-sha256',
    '-subj',
    '/CN=cosign-ts test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await ossl(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  const san = [...(hosts.ips ?? ['127.0.0.1']).map((ip) => `IP:${ip}`), ...(hosts.dns ?? ['localhost']).map((d) => `DNS:${d}`)].join(',');
  await writeFile(
    f('server.ext'),
    `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  await ossl([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '7',
    '-sha256',
    '-extfile',
    f('server.ext'),
  ]);
  const certDir = f('certs.d');
  await mkdir(certDir, { recursive: true });
  await copyFile(f('ca.pem'), path.join(certDir, 'ca.crt'));
  return { caFile: f('ca.pem'), caKeyFile: f('ca.key'), certFile: f('server.pem'), keyFile: f('server.key'), certDir };
}

/** Makes a client certificate (`clientAuth`) signed by the test CA of {@link makeTestCertificates}, in `dir`. */
export async function makeClientCertificate(certs: TestCertificates, dir: string, name = 'client'): Promise<{ certFile: string; keyFile: string }> {
  const f = (n: string) => path.join(dir, n);
  const ossl = (args: string[]) => runOk(realTools.openssl, args, { timeoutMs: 30_000 });
  await ossl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    f(`${name}.key`),
    '-out',
    f(`${name}.csr`),
    '-subj',
    `/CN=${name}`,
  ]);
  await writeFile(f(`${name}.ext`), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  await ossl([
    'x509',
    '-req',
    '-in',
    f(`${name}.csr`),
    '-CA',
    certs.caFile,
    '-CAkey',
    certs.caKeyFile,
    '-CAcreateserial',
    '-out',
    f(`${name}.pem`),
    '-days',
    '7',
    '-sha256',
    '-extfile',
    f(`${name}.ext`),
  ]);
  return { certFile: f(`${name}.pem`), keyFile: f(`${name}.key`) };
}

function registryConfig(o: {
  port: number;
  storage: string;
  logLevel: string;
  tls?: { cert: string; key: string; clientCa?: string };
  htpasswd?: string;
}): string {
  // Plain YAML written by hand: no quoting issues, paths come from mkdtemp.
  const lines = [
    'version: 0.1',
    'log:',
    `  level: ${o.logLevel}`,
    '  accesslog:',
    `    disabled: ${o.logLevel === 'debug' ? 'false' : 'true'}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(o.storage)}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${o.port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
  ];
  if (o.tls !== undefined) {
    lines.push('  tls:', `    certificate: ${JSON.stringify(o.tls.cert)}`, `    key: ${JSON.stringify(o.tls.key)}`);
    if (o.tls.clientCa !== undefined) lines.push('    clientcas:', `      - ${JSON.stringify(o.tls.clientCa)}`);
  }
  if (o.htpasswd !== undefined) {
    lines.push('auth:', '  htpasswd:', '    realm: cosign-ts-test', `    path: ${JSON.stringify(o.htpasswd)}`);
  }
  return lines.join('\n') + '\n';
}

/** Starts a registry and waits until `/v2/` answers. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<RealRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cosign-ts-registry-'));
  let removeHook: (() => void) | undefined;
  try {
    const storage = path.join(dir, 'storage');
    await mkdir(storage);
    let certs: TestCertificates | undefined;
    if (opts.tls === true) certs = await makeTestCertificates(path.join(dir, 'tls'));
    const client = certs !== undefined && opts.mtls === true ? await makeClientCertificate(certs, path.join(dir, 'tls')) : undefined;
    let username: string | undefined;
    let password: string | undefined;
    let htpasswdFile: string | undefined;
    if (opts.auth === true) {
      username = opts.username ?? 'tester';
      password = opts.password ?? randomBytes(12).toString('base64url');
      htpasswdFile = path.join(dir, 'htpasswd');
      // -B bcrypt (the only scheme distribution accepts), -b password from argv, -c create.
      await runOk(realTools.htpasswd, ['-B', '-b', '-c', htpasswdFile, username, password], { timeoutMs: 30_000 });
    }
    const scheme = certs !== undefined ? 'https' : 'http';

    let lastErr: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const configFile = path.join(dir, 'config.yml');
      await writeFile(
        configFile,
        registryConfig({
          port,
          storage,
          logLevel: opts.logLevel ?? 'warn',
          ...(certs !== undefined ? { tls: { cert: certs.certFile, key: certs.keyFile, ...(client !== undefined ? { clientCa: certs.caFile } : {}) } } : {}),
          ...(htpasswdFile !== undefined ? { htpasswd: htpasswdFile } : {}),
        }),
      );
      const daemon: Daemon = spawnDaemon(realTools.registry, ['serve', configFile], {
        // The registry reads REGISTRY_* variables as config overrides: keep the environment clean.
        cleanEnv: true,
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', TMPDIR: dir },
      });
      const url = `${scheme}://127.0.0.1:${port}`;
      try {
        await waitFor(
          `docker-registry on ${url}`,
          async () => {
            if (daemon.exited()) throw new Error(`docker-registry exited:\n${daemon.log()}`);
            const r = await httpRequest(`${url}/v2/`, {
              timeoutMs: 2000,
              ...(certs !== undefined ? { caFile: certs.caFile } : {}),
              ...(client !== undefined ? { clientCertFile: client.certFile, clientKeyFile: client.keyFile } : {}),
            });
            return r.status === 200 || r.status === 401;
          },
          15_000,
        );
      } catch (e) {
        lastErr = e;
        await daemon.stop(1000);
        if (/address already in use/i.test(daemon.log())) continue;
        throw e;
      }
      let stopped = false;
      removeHook = onProcessExit(() => {
        // Synchronous context: the daemon itself is SIGKILLed by proc.ts; drop the storage.
        try {
          rmSync(dir, { recursive: true, force: true });
        } catch {
          /* best effort */
        }
      });
      const reg: RealRegistry = {
        url,
        host: `127.0.0.1:${port}`,
        port,
        dir,
        log: () => daemon.log(),
        async stop() {
          if (stopped) return;
          stopped = true;
          await daemon.stop();
          removeHook?.();
          await rm(dir, { recursive: true, force: true });
        },
      };
      if (certs !== undefined) {
        reg.caFile = certs.caFile;
        reg.certDir = certs.certDir;
      }
      if (client !== undefined) {
        reg.clientCertFile = client.certFile;
        reg.clientKeyFile = client.keyFile;
      }
      if (username !== undefined) {
        reg.username = username;
        reg.password = password;
      }
      return reg;
    }
    throw lastErr instanceof Error ? lastErr : new Error('could not start docker-registry');
  } catch (e) {
    removeHook?.();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The plain-HTTP, no-auth variant. */
export function startPlainRegistry(opts: Omit<RegistryOptions, 'tls' | 'auth'> = {}): Promise<RealRegistry> {
  return startRegistry({ ...opts, tls: false, auth: false });
}

/** The HTTPS + htpasswd variant. */
export function startSecureRegistry(opts: Omit<RegistryOptions, 'tls' | 'auth'> = {}): Promise<RealRegistry> {
  return startRegistry({ ...opts, tls: true, auth: true });
}

/**
 * A Docker `config.json` (for cosign's `DOCKER_CONFIG`) and a containers `auth.json` (for skopeo's
 * `--authfile`) holding the registry's credentials; both are the same file format. Returns the
 * folder to use as `DOCKER_CONFIG` and the file path.
 */
export async function writeDockerConfig(
  reg: Pick<RealRegistry, 'host' | 'username' | 'password'>,
  dir: string,
): Promise<{ dockerConfigDir: string; authFile: string }> {
  await mkdir(dir, { recursive: true });
  const auths: Record<string, { auth: string }> = {};
  if (reg.username !== undefined) {
    auths[reg.host] = { auth: Buffer.from(`${reg.username}:${reg.password ?? ''}`).toString('base64') };
  }
  const authFile = path.join(dir, 'config.json');
  await writeFile(authFile, JSON.stringify({ auths }, null, 2) + '\n', { mode: 0o600 });
  return { dockerConfigDir: dir, authFile };
}
