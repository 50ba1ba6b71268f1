/**
 * A private Sigstore instance for tests: `@sigstore/mock`'s Fulcio, Rekor and timestamp-authority handlers
 * served over real `node:http` on 127.0.0.1 (no nock), with the trusted root that describes them (the
 * `trusted_root.json` cosign 3 takes with `--trusted-root`) and the PEM files cosign 2 takes through
 * `SIGSTORE_ROOT_FILE`, `SIGSTORE_REKOR_PUBLIC_KEY`, `SIGSTORE_CT_LOG_PUBLIC_KEY_FILE` and
 * `--timestamp-certificate-chain`.
 *
 * The mock handlers speak sigstore-js's dialect only. So that real cosign 2.5 and 3.1 can sign against the same
 * instance, the wire protocols of the real services are adapted here, each in its own function below:
 *
 * - {@link fulcioV1Route}: Fulcio's legacy `POST /api/v1/signingCert` (cosign 2), answered by the mock CA;
 * - {@link fulcioV2Route}: `POST /api/v2/signingCert` with the token as a bearer header (sigstore-go, cosign 3);
 * - {@link timestampRoute}: the RFC 3161 DER `TimeStampReq` (`application/timestamp-query`, cosign 2 and 3) as
 *   well as the mock's JSON request (sigstore-js);
 * - {@link rekorV1Log}: Rekor v1 `POST /api/v1/log/entries` re-created faithfully (the mock's entries are
 *   unusable by real clients; see there).
 */
import { X509Certificate, createHash, createPublicKey, generateKeyPairSync, sign as signData, verify as verifyData, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTSA, tsaHandler, type HandlerFn } from '@sigstore/mock';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

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
  /** The canonicalized bodies of the Rekor v1 entries, in log order. */
  readonly rekorEntries: readonly Buffer[];
  stop(): Promise<void>;
}

/** One HTTP request, as the routes below see it. */
export interface RouteRequest {
  readonly body: Buffer;
  readonly headers: IncomingHttpHeaders;
}

/** One HTTP answer. */
export interface RouteResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string | Uint8Array;
}

/** A service endpoint of the instance: one POST path. */
export type Route = (req: RouteRequest) => Promise<RouteResponse>;

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
const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const json = (status: number, body: unknown, headers: Record<string, string> = {}): RouteResponse => ({
  status,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const text = (status: number, message: string): RouteResponse => ({ status, headers: { 'Content-Type': 'text/plain' }, body: message });

/**
 * RFC 8785 (JCS) canonical JSON, which Rekor applies to its entry bodies and SET payloads. For the values used
 * here (objects, arrays, strings, safe integers) it is: object members sorted by key (UTF-16 code units, which
 * is how JS compares strings), no whitespace, strings and numbers as `JSON.stringify` writes them.
 */
function jcs(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(jcs).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    members.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${jcs(v)}`).join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error('jcs: only safe integers are supported');
  return JSON.stringify(value);
}

/** Largest request body accepted (the real services cap theirs too). */
const MAX_BODY_BYTES = 4 << 20;
/** Largest number of Rekor entries one instance keeps. */
const MAX_LOG_ENTRIES = 10_000;

/** A route that hands the request body, as text, to one of the mock's handlers unchanged (e.g. `rekorV2Handler`). */
export function mockHandlerRoute(fn: HandlerFn): Route {
  return ({ body }) => runMockHandler(fn, body.toString('utf8'));
}

/** Runs one of the mock's handlers and turns its result into a {@link RouteResponse}. */
async function runMockHandler(fn: HandlerFn, body: string): Promise<RouteResponse> {
  const r = await fn(body);
  return {
    status: r.statusCode,
    headers: { 'Content-Type': r.contentType ?? 'text/plain' },
    body: typeof r.response === 'string' ? r.response : u8(r.response),
  };
}

const bearerToken = (headers: IncomingHttpHeaders): string | undefined => /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];

/**
 * Fulcio v2, `POST /api/v2/signingCert`. sigstore-js and cosign 2 put the OIDC token in the body
 * (`credentials.oidcIdentityToken`); sigstore-go (cosign 3) sends it as a bearer token, which the mock handler
 * does not read, so it is moved into the body. Real Fulcio answers 200 (sigstore-go insists on it), the mock
 * handler 201.
 */
export function fulcioV2Route(fulcio: HandlerFn): Route {
  return async ({ body, headers }) => {
    let request = body.toString('utf8');
    const bearer = bearerToken(headers);
    if (bearer !== undefined) {
      try {
        const parsed = JSON.parse(request) as Record<string, unknown>;
        if (parsed.credentials === undefined) request = JSON.stringify({ ...parsed, credentials: { oidcIdentityToken: bearer } });
      } catch {
        // the handler answers 400
      }
    }
    const r = await runMockHandler(fulcio, request);
    return r.status === 201 ? { ...r, status: 200 } : r;
  };
}

/**
 * Fulcio's legacy API, `POST /api/v1/signingCert`, which cosign 2 uses (sigstore/fulcio `pkg/api` client):
 * the request is `{"publicKey":{"content":<base64 of the PEM or DER key>,"algorithm":"ecdsa"},
 * "signedEmailAddress":<base64 proof of possession>}` with the OIDC token as a bearer header; the answer is
 * 201 with the PEM chain (leaf first) as `application/pem-certificate-chain` and, for a detached SCT, an `SCT`
 * header. The request is re-expressed as the v2 request the mock handler takes; its certificate carries an
 * embedded SCT, so there is no `SCT` header (as with the real Fulcio today). The proof of possession is not
 * checked (the mock does not check the token either).
 */
export function fulcioV1Route(fulcio: HandlerFn): Route {
  return async ({ body, headers }) => {
    const bearer = bearerToken(headers);
    if (bearer === undefined) return text(401, 'missing bearer token');
    let pem: string;
    try {
      const req = JSON.parse(body.toString('utf8')) as { publicKey?: { content?: unknown } };
      if (typeof req.publicKey?.content !== 'string') return text(400, 'publicKey.content missing');
      const key = Buffer.from(req.publicKey.content, 'base64');
      pem = key.subarray(0, 10).toString('latin1') === '-----BEGIN' ? key.toString('utf8') : pemKey(key);
    } catch (e) {
      return text(400, `bad request: ${(e as Error).message}`);
    }
    const r = await runMockHandler(fulcio, JSON.stringify({ credentials: { oidcIdentityToken: bearer }, publicKeyRequest: { publicKey: { content: pem } } }));
    if (r.status !== 201) return r;
    const v2 = JSON.parse(Buffer.from(r.body).toString('utf8')) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } };
    const chain = v2.signedCertificateEmbeddedSct.chain.certificates.map((c) => (c.endsWith('\n') ? c : `${c}\n`)).join('');
    return { status: 201, headers: { 'Content-Type': 'application/pem-certificate-chain' }, body: chain };
  };
}

/** The parts of `@sigstore/mock`'s TSA object that {@link timestampRoute} adjusts (not in its public type). */
interface MockTSAInternals {
  timestamp(req: { artifactHash: Buffer; hashAlgorithmOID: string; nonce: number; policyOID: string; certReq?: boolean }): Promise<ArrayBufferView>;
  tstInfo(req: unknown): pkijs.TSTInfo;
}

/** Sigstore's timestamp authority policy OID, the default of the real service and of the mock. */
const TSA_POLICY_OID = '1.3.6.1.4.1.57264.2';

/**
 * The timestamp authority, `POST /api/v1/timestamp`. sigstore-js posts JSON (`{artifactHash, hashAlgorithm,
 * nonce?, certificates?}`), which the mock handler takes as is. cosign 2 and 3 (sigstore/timestamp-authority's
 * client, sigstore-go) post an RFC 3161 DER `TimeStampReq` as `application/timestamp-query`: it is parsed
 * here and handed to the mock TSA. The request's nonce is a random 64 to 160-bit integer that the client
 * checks in the reply, but the mock builds its `TSTInfo` nonce from a JS number, so its `tstInfo` is wrapped to
 * carry the request's nonce bytes unchanged. The mock's `genTime` has milliseconds, which DER writes without
 * trailing zeros (`.12Z` for 120 ms), and @sigstore/core's time parser wants exactly 3 digits (one timestamp
 * in ten failed to verify); the real service's `genTime` (Go `encoding/asn1`) has whole seconds, as here now.
 * The reply is a DER `TimeStampResp`, `application/timestamp-reply`, 201 as the real service answers.
 */
export function timestampRoute(tsa: Awaited<ReturnType<typeof initializeTSA>>): Route {
  const internals = tsa as unknown as MockTSAInternals;
  const nonces = new WeakMap<object, Uint8Array>();
  const mockTstInfo = internals.tstInfo.bind(tsa);
  internals.tstInfo = (req: unknown) => {
    const info = mockTstInfo(req);
    info.genTime = new Date(Math.floor(info.genTime.getTime() / 1000) * 1000);
    const nonce = typeof req === 'object' && req !== null ? nonces.get(req) : undefined;
    if (nonce !== undefined) info.nonce = new asn1js.Integer({ valueHex: nonce });
    return info;
  };
  const viaJson = tsaHandler(tsa).fn;
  return async ({ body, headers }) => {
    if (!(headers['content-type'] ?? '').startsWith('application/timestamp-query')) return runMockHandler(viaJson, body.toString('utf8'));
    let req: pkijs.TimeStampReq;
    try {
      req = pkijs.TimeStampReq.fromBER(u8(body));
    } catch (e) {
      return text(400, `bad TimeStampReq: ${(e as Error).message}`);
    }
    const request = {
      artifactHash: Buffer.from(req.messageImprint.hashedMessage.valueBlock.valueHexView),
      hashAlgorithmOID: req.messageImprint.hashAlgorithm.algorithmId,
      nonce: 0,
      policyOID: req.reqPolicy ?? TSA_POLICY_OID,
      certReq: req.certReq ?? false,
    };
    if (req.nonce !== undefined) nonces.set(request, new Uint8Array(req.nonce.valueBlock.valueHexView));
    try {
      const resp = await internals.timestamp(request);
      return { status: 201, headers: { 'Content-Type': 'application/timestamp-reply' }, body: u8(resp) };
    } catch (e) {
      return text(400, (e as Error).message);
    }
  };
}

/** The RFC 6962 Merkle tree hash of `leaves` (leaf hashes). */
function merkleRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return leaves[0] as Buffer;
  const k = splitPoint(leaves.length);
  return sha256(Buffer.from([1]), merkleRoot(leaves.slice(0, k)), merkleRoot(leaves.slice(k)));
}

/** The largest power of two smaller than `n` (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The RFC 6962 audit path of leaf `m` in `leaves`, leaf side first (RFC 6962 §2.1.1). */
function inclusionPath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = splitPoint(leaves.length);
  return m < k
    ? [...inclusionPath(m, leaves.slice(0, k)), merkleRoot(leaves.slice(k))]
    : [...inclusionPath(m - k, leaves.slice(k)), merkleRoot(leaves.slice(0, k))];
}

/** The public key (of a certificate or a key) in a PEM, re-encoded as Rekor's `CanonicalValue` does. */
function canonicalPem(pem: string): { pem: string; key: KeyObject } {
  if (pem.includes('-----BEGIN CERTIFICATE-----')) {
    const cert = new X509Certificate(pem);
    return { pem: cert.toString(), key: cert.publicKey };
  }
  const key = createPublicKey(pem);
  return { pem: key.export({ type: 'spki', format: 'pem' }).toString(), key };
}

/** The DSSE pre-authentication encoding (DSSE v1 protocol). */
function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/**
 * Rekor's canonical body for a proposed `dsse` v0.0.1 entry (rekor `pkg/types/dsse/v0.0.1`): the server
 * verifies every envelope signature with one of `proposedContent.verifiers` (base64 PEM certificates or keys),
 * then stores only `{envelopeHash, payloadHash, signatures: [{signature, verifier}]}` (signatures sorted by
 * their base64 value, verifiers re-encoded as canonical PEM), JCS-canonicalized. The mock stores the proposed
 * entry itself (the envelope and no `signatures`), which verifiers of real entries reject.
 */
function canonicalDsseV001(spec: { proposedContent?: { envelope?: unknown; verifiers?: unknown } }): Record<string, unknown> {
  const envelopeText = spec.proposedContent?.envelope;
  const verifiers = spec.proposedContent?.verifiers;
  if (typeof envelopeText !== 'string' || !Array.isArray(verifiers) || verifiers.length === 0)
    throw new Error('dsse: proposedContent.envelope and verifiers required');
  const env = JSON.parse(envelopeText) as { payload?: unknown; payloadType?: unknown; signatures?: Array<{ sig?: unknown }> };
  if (typeof env.payload !== 'string' || typeof env.payloadType !== 'string' || !Array.isArray(env.signatures) || env.signatures.length === 0) {
    throw new Error('dsse: malformed envelope');
  }
  const payload = Buffer.from(env.payload, 'base64');
  const keys = verifiers.map((v) => canonicalPem(Buffer.from(String(v), 'base64').toString('utf8')));
  const signatures = env.signatures.map(({ sig }) => {
    if (typeof sig !== 'string') throw new Error('dsse: malformed signature');
    const by = keys.find((k) => verifyData('sha256', pae(env.payloadType as string, payload), k.key, Buffer.from(sig, 'base64')));
    if (by === undefined) throw new Error('all signatures must have a key that verifies it');
    return { signature: sig, verifier: Buffer.from(by.pem).toString('base64') };
  });
  signatures.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelopeText, 'utf8')).toString('hex') },
      payloadHash: { algorithm: 'sha256', value: sha256(payload).toString('hex') },
      signatures,
    },
  };
}

/**
 * Rekor's canonical body for a proposed entry. `dsse` v0.0.1 is rebuilt ({@link canonicalDsseV001});
 * the proposed `hashedrekord` v0.0.1 and `intoto` entries of cosign and sigstore-js already hold exactly the
 * fields Rekor keeps, so their JCS canonical form is what Rekor stores (as in the mock).
 */
function canonicalBody(proposed: Record<string, unknown>): Buffer {
  const entry = proposed.kind === 'dsse' && proposed.apiVersion === '0.0.1' ? canonicalDsseV001(proposed.spec as Record<string, never>) : proposed;
  return Buffer.from(jcs(entry), 'utf8');
}

/**
 * Rekor v1, `POST /api/v1/log/entries`, re-created: the mock's log gives every entry a random index, an
 * inclusion proof in a one-leaf tree of its own, and stores the proposed entry verbatim (a dsse entry without
 * `signatures`), which real clients reject or crash on (cosign 3.1 panics building its bundle; @sigstore/verify
 * reports "signature count mismatch"). This log behaves like the real service instead:
 *
 * - the stored body is Rekor's canonical body ({@link canonicalBody});
 * - entries are appended to one RFC 6962 Merkle tree; `logIndex` is the position, and the answer's
 *   `verification.inclusionProof` is `{logIndex, rootHash (hex), treeSize, hashes (hex, leaf side first),
 *   checkpoint}` for the tree just after the append;
 * - the checkpoint is a signed note: `<host> - <treeID>`, the size, the base64 root, `Timestamp: <ns>`, a blank
 *   line, then `— <host> <base64(4-byte key hint || ECDSA signature)>`, the key hint being the first 4 bytes of
 *   the SHA-256 of the log's PKIX public key (= the log ID);
 * - the signed entry timestamp is the log key's signature over the JCS form of
 *   `{body, integratedTime, logID, logIndex}`;
 * - the answer is 201 `{<uuid>: LogEntryAnon}`, the UUID being the tree ID (16 hex digits) and the leaf hash,
 *   with `ETag` and `Location` headers.
 */
export function rekorV1Log(url: string, keyPair: { publicKey: KeyObject; privateKey: KeyObject }): { route: Route; entries: readonly Buffer[] } {
  const host = new URL(url).host;
  const spki = keyPair.publicKey.export({ type: 'spki', format: 'der' });
  const logID = sha256(spki);
  const treeID = BigInt(`0x${logID.subarray(8, 15).toString('hex')}`); // a stable 56-bit tree ID
  const entries: Buffer[] = [];
  const leaves: Buffer[] = [];
  const route: Route = async ({ body }) => {
    if (entries.length >= MAX_LOG_ENTRIES) return text(507, 'log full');
    let canonical: Buffer;
    try {
      canonical = canonicalBody(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
    } catch (e) {
      return json(400, { code: 400, message: (e as Error).message });
    }
    const leaf = sha256(Buffer.from([0]), canonical);
    const logIndex = entries.length;
    entries.push(canonical);
    leaves.push(leaf);
    const treeSize = leaves.length;
    const integratedTime = Math.floor(Date.now() / 1000);
    const rootHash = merkleRoot(leaves);
    const note = `${host} - ${treeID}\n${treeSize}\n${rootHash.toString('base64')}\nTimestamp: ${BigInt(Date.now()) * 1_000_000n}\n`;
    const noteSig = Buffer.concat([logID.subarray(0, 4), signData('sha256', Buffer.from(note, 'utf8'), keyPair.privateKey)]);
    const checkpoint = `${note}\n\u2014 ${host} ${noteSig.toString('base64')}\n`;
    const bodyB64 = canonical.toString('base64');
    const setPayload = jcs({ body: bodyB64, integratedTime, logID: logID.toString('hex'), logIndex });
    const set = signData('sha256', Buffer.from(setPayload, 'utf8'), keyPair.privateKey);
    const uuid = `${treeID.toString(16).padStart(16, '0')}${leaf.toString('hex')}`;
    return json(
      201,
      {
        [uuid]: {
          body: bodyB64,
          integratedTime,
          logID: logID.toString('hex'),
          logIndex,
          verification: {
            inclusionProof: {
              checkpoint,
              hashes: inclusionPath(logIndex, leaves).map((h) => h.toString('hex')),
              logIndex,
              rootHash: rootHash.toString('hex'),
              treeSize,
            },
            signedEntryTimestamp: set.toString('base64'),
          },
        },
      },
      { ETag: uuid, Location: `/api/v1/log/entries/${uuid}` },
    );
  };
  return { route, entries };
}

/** Serves `routes` (POST only) on 127.0.0.1, counting requests by path into `requests`. */
function serveRoutes(routes: Map<string, Route>, requests: Map<string, number>): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      requests.set(path, (requests.get(path) ?? 0) + 1);
      const route = req.method === 'POST' ? routes.get(path) : undefined;
      if (route === undefined) {
        res.writeHead(404).end();
        return;
      }
      route({ body: Buffer.concat(chunks), headers: req.headers }).then(
        (r) => res.writeHead(r.status, r.headers).end(typeof r.body === 'string' ? r.body : Buffer.from(r.body)),
        () => res.writeHead(500).end(),
      );
    });
  });
}

/** Start Fulcio, Rekor and a TSA on one port. */
export async function startSigstoreMock(): Promise<SigstoreMock> {
  const keys = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctlog = await initializeCTLog(keys());
  const ca = await initializeCA(keys(), ctlog);
  const tsa = await initializeTSA(keys());
  // The transparency log's key pair: signs the Rekor v1 SETs and checkpoints, and is the trusted root's tlog key.
  const tlogKeys = keys();
  const requests = new Map<string, number>();
  const routes = new Map<string, Route>();
  const server = serveRoutes(routes, requests);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fulcio = fulcioHandler(ca).fn;
  const rekor = rekorV1Log(url, tlogKeys);
  routes.set('/api/v2/signingCert', fulcioV2Route(fulcio));
  routes.set('/api/v1/signingCert', fulcioV1Route(fulcio));
  routes.set('/api/v1/log/entries', rekor.route);
  routes.set('/api/v1/timestamp', timestampRoute(tsa));

  const start = new Date(Date.now() - 3600_000).toISOString();
  const ctlogKey = Buffer.from(ctlog.publicKey);
  const tlogKey = tlogKeys.publicKey.export({ type: 'spki', format: 'der' });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(tlogKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: sha256(tlogKey).toString('base64') },
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
    rekorEntries: rekor.entries,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A signing config (`application/vnd.dev.sigstore.signingconfig.v0.2+json`, cosign 3's `--signing-config`)
 * that points at the mock: its Fulcio, its Rekor v1 and its timestamp authority.
 */
export function mockSigningConfig(mock: Pick<SigstoreMock, 'fulcioURL' | 'rekorURL' | 'tsaURL'>, opts: { tsa?: boolean } = {}): Record<string, unknown> {
  const service = (u: string) => ({ url: u, majorApiVersion: 1, validFor: { start: '2020-01-01T00:00:00Z' }, operator: 'sigstore.mock' });
  return {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [service(mock.fulcioURL)],
    oidcUrls: [],
    rekorTlogUrls: [service(mock.rekorURL)],
    tsaUrls: opts.tsa === false ? [] : [service(mock.tsaURL)],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
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
  const { initializeTLog, rekorV2Handler } = await import('@sigstore/mock');
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
