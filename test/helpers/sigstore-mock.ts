/**
 * A private Sigstore instance for tests: `@sigstore/mock`'s Fulcio, Rekor and timestamp-authority handlers
 * served over real `node:http` on 127.0.0.1 (no nock), with the trusted root that describes them (the
 * `trusted_root.json` cosign 3 takes with `--trusted-root`) and the PEM files cosign 2 takes through
 * `SIGSTORE_ROOT_FILE`, `SIGSTORE_REKOR_PUBLIC_KEY`, `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE` and
 * `--timestamp-certificate-chain`.
 */
import { generateKeyPairSync, createHash, X509Certificate, createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from '@sigstore/mock';

/** A running mock instance. */
export interface SigstoreMock {
  /** Base URL of all three services (they live on distinct paths). */
  readonly url: string;
  readonly fulcioURL: string;
  readonly rekorURL: string;
  readonly tsaURL: string;
  /** The trusted root (protobuf JSON, `application/vnd.dev.sigstore.trustedroot+json;version=0.1`). */
  readonly trustedRoot: Record<string, unknown>;
  /** Fulcio's root certificate, PEM. */
  readonly fulcioRootPem: string;
  /** Rekor's public key, PEM. */
  readonly rekorPublicKeyPem: string;
  /** The CT log's public key, PEM. */
  readonly ctlogPublicKeyPem: string;
  /** The timestamp authority's chain (signing certificate, then root), PEM. */
  readonly tsaChainPem: string;
  /** Requests served, by path. */
  readonly requests: Map<string, number>;
  stop(): Promise<void>;
}

function pemCert(der: ArrayBufferView): string {
  return new X509Certificate(Buffer.from(u8(der))).toString();
}

function pemKey(der: Uint8Array): string {
  return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

const u8 = (v: ArrayBufferView): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
const b64 = (b: ArrayBufferView) => Buffer.from(u8(b)).toString('base64');

/** Start Fulcio, Rekor and a TSA on one port. */
export async function startSigstoreMock(): Promise<SigstoreMock> {
  const keys = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctlog = await initializeCTLog(keys());
  const ca = await initializeCA(keys(), ctlog);
  const tsa = await initializeTSA(keys());
  const requests = new Map<string, number>();
  const handlers = new Map<string, HandlerFn>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      requests.set(path, (requests.get(path) ?? 0) + 1);
      const fn = req.method === 'POST' ? handlers.get(path) : undefined;
      if (fn === undefined) {
        res.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks).toString('utf8');
      // Fulcio takes the OIDC token in the body (sigstore-js, cosign 2) or as a bearer token (sigstore-go, cosign 3);
      // the mock handler reads the body only
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (path === '/api/v2/signingCert' && bearer !== undefined) {
        try {
          const json = JSON.parse(body) as Record<string, unknown>;
          if (json.credentials === undefined) body = JSON.stringify({ ...json, credentials: { oidcIdentityToken: bearer } });
        } catch {
          // the handler answers 400
        }
      }
      fn(body).then(
        (r) => {
          // real Fulcio answers 200 (sigstore-go insists on it), the mock handler 201
          res.writeHead(path === '/api/v2/signingCert' && r.statusCode === 201 ? 200 : r.statusCode, { 'Content-Type': r.contentType ?? 'text/plain' });
          res.end(typeof r.response === 'string' ? r.response : Buffer.from(r.response.buffer, r.response.byteOffset, r.response.byteLength));
        },
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tlog = await initializeTLog(url, keys());
  for (const h of [fulcioHandler(ca), rekorHandler(tlog), tsaHandler(tsa)]) handlers.set(h.path, h.fn);

  const start = new Date(Date.now() - 3600_000).toISOString();
  const ctlogKey = Buffer.from(ctlog.publicKey);
  const tlogKey = Buffer.from(tlog.publicKey);
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(tlogKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: createHash('sha256').update(tlogKey).digest('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctlogKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(ctlog.logID) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
        validFor: { start },
      },
    ],
  };
  return {
    url,
    fulcioURL: url,
    rekorURL: url,
    tsaURL: `${url}/api/v1/timestamp`,
    trustedRoot,
    fulcioRootPem: pemCert(ca.rootCertificate),
    rekorPublicKeyPem: pemKey(tlogKey),
    ctlogPublicKeyPem: pemKey(ctlogKey),
    tsaChainPem: pemCert(tsa.intCertificate) + pemCert(tsa.rootCertificate),
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** GitHub Actions-like claims for a test identity. */
export const GITHUB_CLAIMS = {
  iss: 'https://token.actions.githubusercontent.com',
  sub: 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
  event_name: 'push',
  sha: '0123456789abcdef0123456789abcdef01234567',
  workflow: 'release',
  repository: 'acme/app',
  ref: 'refs/heads/main',
};

/** An (unsigned: the mock Fulcio decodes, it does not verify) OIDC token carrying `claims`. */
export function mockIdentityToken(claims: Record<string, unknown> = GITHUB_CLAIMS): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ aud: 'sigstore', iat: now, exp: now + 600, ...claims })}.${Buffer.from('sig').toString('base64url')}`;
}

// ---------------------------------------------------------------------------------------------------------
// Rekor v2 (rekor-tiles), a log of its own as real Rekor v2 instances are (log2025-1.rekor.sigstore.dev …).
// ---------------------------------------------------------------------------------------------------------

/** A running Rekor v2 log: `POST /api/v2/log/entries`. */
export interface RekorV2Mock {
  /** Base URL (the signing config's `rekorTlogUrls[].url`, with `majorApiVersion: 2`). */
  readonly url: string;
  /** Its `tlogs[]` item of a trusted root: Ed25519 key, `baseUrl`, log ID = the checkpoint key ID. */
  readonly trustedRootLog: Record<string, unknown>;
  /** Entries logged. */
  readonly entries: () => number;
  stop(): Promise<void>;
}

/** JSON with object keys sorted (RFC 8785 for these bodies: strings and objects only). */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Start a Rekor v2 log. Requests go through `@sigstore/mock`'s `rekorV2Handler` (it parses and checks the
 * `CreateEntryRequest`); its answer is then made what rekor-tiles answers, which the mock's is not: the body is
 * the v0.0.2 `Entry` (not the request), the checkpoint is a C2SP signed note whose origin is the log's host name
 * (no Rekor v1 tree ID) signed with an Ed25519 key whose note key ID is the log ID, the inclusion proof is for a
 * one-leaf tree (index 0), and there is no integrated time and no SET (a v2 entry needs a TSA timestamp).
 */
export async function startRekorV2Mock(): Promise<RekorV2Mock> {
  const { CreateEntryRequest, Entry } = await import('@sigstore/protobuf-specs/rekor/v2');
  const { rekorV2Handler } = await import('@sigstore/mock');
  const { sign } = await import('node:crypto');
  const ed = generateKeyPairSync('ed25519');
  const spki = ed.publicKey.export({ type: 'spki', format: 'der' });
  let logged = 0;
  let origin = '';
  let keyId = Buffer.alloc(0);
  let handler: HandlerFn | undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/api/v2/log/entries' || handler === undefined) {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      handler(body).then(
        (r) => {
          if (r.statusCode !== 201) {
            res.writeHead(r.statusCode, { 'Content-Type': 'text/plain' }).end(typeof r.response === 'string' ? r.response : '');
            return;
          }
          const request = CreateEntryRequest.fromJSON(JSON.parse(body));
          const spec = request.spec;
          let entry: import('@sigstore/protobuf-specs/rekor/v2').Entry;
          if (spec?.$case === 'hashedRekordRequestV002') {
            const h = spec.hashedRekordRequestV002;
            entry = {
              kind: 'hashedrekord',
              apiVersion: '0.0.2',
              spec: { spec: { $case: 'hashedRekordV002', hashedRekordV002: { data: { algorithm: 1, digest: h.digest }, signature: h.signature } } },
            };
          } else if (spec?.$case === 'dsseRequestV002') {
            const d = spec.dsseRequestV002;
            const env = d.envelope;
            entry = {
              kind: 'dsse',
              apiVersion: '0.0.2',
              spec: {
                spec: {
                  $case: 'dsseV002',
                  dsseV002: {
                    payloadHash: {
                      algorithm: 1,
                      digest: createHash('sha256')
                        .update(env?.payload ?? Buffer.alloc(0))
                        .digest(),
                    },
                    signatures: (env?.signatures ?? []).map((s) => ({ content: s.sig, verifier: d.verifiers[0] })),
                  },
                },
              },
            };
          } else {
            res.writeHead(400).end('unsupported entry');
            return;
          }
          const canonical = Buffer.from(canonicalJson(Entry.toJSON(entry)));
          const root = createHash('sha256')
            .update(Buffer.from([0]))
            .update(canonical)
            .digest();
          const note = `${origin}\n1\n${root.toString('base64')}\n`;
          const sig = sign(null, Buffer.from(note), ed.privateKey);
          const checkpoint = `${note}\n\u2014 ${origin} ${Buffer.concat([keyId.subarray(0, 4), sig]).toString('base64')}\n`;
          logged++;
          res.writeHead(201, { 'Content-Type': 'application/json' }).end(
            JSON.stringify({
              logIndex: '0',
              logId: { keyId: keyId.toString('base64') },
              kindVersion: { kind: entry.kind, version: '0.0.2' },
              inclusionProof: { logIndex: '0', rootHash: root.toString('base64'), treeSize: '1', hashes: [], checkpoint: { envelope: checkpoint } },
              canonicalizedBody: canonical.toString('base64'),
            }),
          );
        },
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // sigstore-go checks the checkpoint against the trusted root's baseUrl host name (no port).
  origin = new URL(url).hostname;
  // C2SP signed-note key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || raw key); the log ID is all of it.
  keyId = createHash('sha256')
    .update(Buffer.concat([Buffer.from(`${origin}\n`), Buffer.from([1]), spki.subarray(spki.length - 32)]))
    .digest();
  handler = rekorV2Handler(await initializeTLog(url, generateKeyPairSync('ec', { namedCurve: 'P-256' }))).fn;
  return {
    url,
    trustedRootLog: {
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: spki.toString('base64'), keyDetails: 'PKIX_ED25519', validFor: { start: new Date(Date.now() - 3600_000).toISOString() } },
      logId: { keyId: keyId.toString('base64') },
    },
    entries: () => logged,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
