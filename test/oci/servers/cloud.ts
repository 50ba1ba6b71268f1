/**
 * Local servers speaking the cloud token APIs the cloud keychains use, each on 127.0.0.1 with a random
 * port, checking what the real service checks:
 *
 * - {@link EcrApiServer}: AWS ECR's JSON 1.1 API (`X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken`),
 *   SigV4 recomputed with the test secret (service `ecr`, region, date).
 * - {@link GceMetadataServer}: the GCE/GKE metadata server (`Metadata-Flavor: Google`), service-account tokens.
 * - {@link AppServiceIdentityServer}: Azure's managed identity endpoint (App Service flavour: `IDENTITY_ENDPOINT`,
 *   `X-IDENTITY-HEADER`), Azure AD tokens that are JWTs with `tid` and `aud`.
 * - {@link CloudRegistryServer}: HTTPS registries answering for ECR, Google and ACR host names (by `Host`),
 *   each with its cloud's auth: ECR basic `AWS:<token>`; Google bearer tokens from `/v2/token` for basic
 *   `oauth2accesstoken:<access token>`; ACR `/oauth2/exchange` (Azure AD token → refresh token) and
 *   `/oauth2/token` (refresh token → access token), then one manifest.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TestCertificates } from '../../helpers/real/registry.js';
import { sendJson, startServer, type Started } from '../../kms/servers/base.js';

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function b64url(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

/** An unsigned-looking JWT (three parts) with these claims: what ACR and Azure AD hand out, opaque to clients. */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url(claims)}.${randomBytes(32).toString('base64url')}`;
}

/** AWS ECR `GetAuthorizationToken` over JSON 1.1 with SigV4. */
export class EcrApiServer {
  readonly accessKeyId = 'AKIDCOSIGNTSECRTEST1';
  readonly secretAccessKey = 'cosignTsEcrTestSecret/Never+Log+This000';
  readonly region: string;
  /** The registry password each call hands out (`AWS:<password>`, base64). */
  password = `ecr-${randomBytes(24).toString('hex')}`;
  /** Lifetime of the tokens handed out, seconds. */
  lifetime = 12 * 3600;
  /** Answer AccessDeniedException. */
  deny = false;
  readonly calls: { registryIds: unknown; region: string }[] = [];
  readonly authFailures: string[] = [];
  #started: Started | undefined;

  private constructor(region: string) {
    this.region = region;
  }
  static async start(region = 'us-east-1'): Promise<EcrApiServer> {
    const s = new EcrApiServer(region);
    s.#started = await startServer((req, body, res) => s.#handle(req, body, res));
    return s;
  }
  get url(): string {
    return (this.#started as Started).url;
  }
  close(): Promise<void> {
    return (this.#started as Started).close();
  }

  #error(res: ServerResponse, status: number, type: string, message: string): void {
    const data = Buffer.from(JSON.stringify({ __type: type, message }));
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), 'content-length': String(data.length) });
    res.end(data);
  }

  #sigV4(req: IncomingMessage, body: Buffer): string | undefined {
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/.exec(
        String(req.headers.authorization ?? ''),
      );
    if (m === null) return 'MissingAuthenticationTokenException';
    const [, akid, date, region, service, signedHeadersStr, signature] = m as unknown as string[];
    if (akid !== this.accessKeyId) return 'UnrecognizedClientException';
    if (region !== this.region || service !== 'ecr') return 'InvalidSignatureException';
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (amzDate.slice(0, 8) !== date) return 'IncompleteSignatureException';
    const signed = (signedHeadersStr as string).split(';');
    if (!signed.includes('host') || !signed.includes('x-amz-date')) return 'IncompleteSignatureException';
    const url = new URL(req.url ?? '/', 'http://x');
    const headers = signed
      .map(
        (h) =>
          `${h}:${String(req.headers[h] ?? '')
            .trim()
            .replace(/\s+/g, ' ')}\n`,
      )
      .join('');
    const payload = createHash('sha256').update(body).digest('hex');
    const canonical = [req.method, url.pathname, '', headers, signedHeadersStr, payload].join('\n');
    const scope = `${date}/${region}/${service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${this.secretAccessKey}`, date as string), region as string), service as string), 'aws4_request');
    const expected = hmac(key, toSign);
    const got = Buffer.from(signature as string, 'hex');
    return got.length === expected.length && timingSafeEqual(got, expected) ? undefined : 'InvalidSignatureException';
  }

  #handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    if (req.method !== 'POST' || req.headers['x-amz-target'] !== 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken')
      return this.#error(res, 400, 'UnknownOperationException', 'unknown operation');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1'))
      return this.#error(res, 400, 'SerializationException', 'bad content type');
    const authErr = this.#sigV4(req, body);
    if (authErr !== undefined) {
      this.authFailures.push(authErr);
      return this.#error(res, 403, authErr, 'The request signature we calculated does not match the signature you provided.');
    }
    const input = JSON.parse(body.toString('utf8') || '{}') as { registryIds?: string[] };
    this.calls.push({ registryIds: input.registryIds, region: this.region });
    if (this.deny)
      return this.#error(res, 400, 'AccessDeniedException', 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken');
    const account = input.registryIds?.[0] ?? '123456789012';
    const data = Buffer.from(
      JSON.stringify({
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${this.password}`).toString('base64'),
            expiresAt: Math.floor(Date.now() / 1000) + this.lifetime,
            proxyEndpoint: `https://${account}.dkr.ecr.${this.region}.amazonaws.com`,
          },
        ],
      }),
    );
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), 'content-length': String(data.length) });
    res.end(data);
  }
}

/** The GCE / GKE metadata server: detection ping and the default service account's token. */
export class GceMetadataServer {
  token = `ya29.${randomBytes(24).toString('base64url')}`;
  readonly tokenRequests: string[] = [];
  #started: Started | undefined;
  static async start(): Promise<GceMetadataServer> {
    const s = new GceMetadataServer();
    s.#started = await startServer((req, _body, res) => s.#handle(req, res));
    return s;
  }
  /** `127.0.0.1:PORT`, for `GCE_METADATA_HOST`. */
  get host(): string {
    return `127.0.0.1:${(this.#started as Started).port}`;
  }
  close(): Promise<void> {
    return (this.#started as Started).close();
  }
  #handle(req: IncomingMessage, res: ServerResponse): void {
    const h = { 'metadata-flavor': 'Google' };
    if (req.headers['metadata-flavor'] !== 'Google') return sendJson(res, 403, { error: 'Missing Metadata-Flavor:Google header' }, h);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/computeMetadata/v1/instance' || url.pathname === '/computeMetadata/v1/instance/') {
      res.writeHead(200, { ...h, 'content-type': 'application/text' });
      return void res.end('attributes/\nhostname\nservice-accounts/\n');
    }
    if (url.pathname === '/computeMetadata/v1/instance/service-accounts/default/token') {
      this.tokenRequests.push(url.search);
      return sendJson(res, 200, { access_token: this.token, expires_in: 3599, token_type: 'Bearer' }, h);
    }
    if (url.pathname === '/computeMetadata/v1/project/project-id') {
      res.writeHead(200, { ...h, 'content-type': 'application/text' });
      return void res.end('cosign-ts-test');
    }
    if (url.pathname === '/computeMetadata/v1/universe/universe-domain') {
      res.writeHead(200, { ...h, 'content-type': 'application/text' });
      return void res.end('googleapis.com');
    }
    res.writeHead(404, { ...h, 'content-type': 'text/html' });
    res.end('not found');
  }
}

/** Azure managed identity, App Service flavour (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`). */
export class AppServiceIdentityServer {
  readonly header = randomBytes(16).toString('hex');
  readonly tenant = randomUUID();
  /** Resources asked for. */
  readonly resources: string[] = [];
  /** The last token issued. */
  token = '';
  /** Every token issued. */
  readonly issued = new Set<string>();
  #started: Started | undefined;
  static async start(): Promise<AppServiceIdentityServer> {
    const s = new AppServiceIdentityServer();
    s.#started = await startServer((req, _body, res) => s.#handle(req, res));
    return s;
  }
  get endpoint(): string {
    return `${(this.#started as Started).url}/msi/token`;
  }
  close(): Promise<void> {
    return (this.#started as Started).close();
  }
  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/msi/token' || req.headers['x-identity-header'] !== this.header)
      return sendJson(res, 400, { statusCode: 400, message: 'missing or wrong X-IDENTITY-HEADER' });
    const resource = url.searchParams.get('resource') ?? '';
    this.resources.push(resource);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    this.token = fakeJwt({ aud: resource, tid: this.tenant, exp, oid: randomUUID() });
    this.issued.add(this.token);
    sendJson(res, 200, { access_token: this.token, expires_on: String(exp), resource, token_type: 'Bearer', client_id: randomUUID() });
  }
}

/** One manifest, served to authorised clients. */
export const CLOUD_MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${createHash('sha256').update('{}').digest('hex')}`, size: 2 },
    layers: [],
  }),
);

/** HTTPS registries for ECR, Google and ACR host names, routed by `Host`. */
export class CloudRegistryServer {
  /** The ECR password accepted (set from the {@link EcrApiServer}). */
  ecrPassword = '';
  /** The Google access token accepted. */
  googleToken = '';
  /** The Azure AD tokens accepted by the exchange (share {@link AppServiceIdentityServer.issued}). */
  aadTokens: Set<string> = new Set();
  /** Tenant the exchange expects (when set). */
  tenant: string | undefined;
  readonly refreshTokens = new Set<string>();
  readonly accessTokens = new Set<string>();
  readonly log: string[] = [];
  /** Form fields of each exchange. */
  readonly exchanges: Record<string, string>[] = [];
  readonly #server: https.Server;
  port = 0;

  private constructor(server: https.Server) {
    this.#server = server;
  }

  static async start(certs: TestCertificates): Promise<CloudRegistryServer> {
    const s: CloudRegistryServer = new CloudRegistryServer(
      https.createServer({ cert: await readFile(certs.certFile), key: await readFile(certs.keyFile) }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => s.#handle(req, Buffer.concat(chunks), res));
      }),
    );
    await new Promise<void>((r) => s.#server.listen(0, '127.0.0.1', r));
    s.port = (s.#server.address() as AddressInfo).port;
    return s;
  }
  close(): Promise<void> {
    return new Promise((r) => {
      this.#server.closeAllConnections();
      this.#server.close(() => r());
    });
  }

  #basic(req: IncomingMessage): [string, string] | undefined {
    const m = /^Basic (.+)$/.exec(String(req.headers.authorization ?? ''));
    if (m === null) return undefined;
    const d = Buffer.from(m[1] as string, 'base64').toString('utf8');
    const i = d.indexOf(':');
    return i < 0 ? undefined : [d.slice(0, i), d.slice(i + 1)];
  }

  #manifest(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (path === '/v2/' || path === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0' });
      return void res.end('{}');
    }
    if (path !== '/v2/app/manifests/v1') return sendJson(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    res.writeHead(200, {
      'content-type': 'application/vnd.oci.image.manifest.v1+json',
      'content-length': String(CLOUD_MANIFEST.length),
      'docker-content-digest': `sha256:${createHash('sha256').update(CLOUD_MANIFEST).digest('hex')}`,
    });
    res.end(req.method === 'HEAD' ? undefined : CLOUD_MANIFEST);
  }

  #handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
    const url = new URL(req.url ?? '/', 'https://x');
    this.log.push(`${req.method} ${host}${url.pathname}`);
    const unauthorized = (challenge: string): void => {
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
    };
    if (/\.dkr\.ecr\./.test(host)) {
      const b = this.#basic(req);
      if (b === undefined || b[0] !== 'AWS' || b[1] !== this.ecrPassword) return unauthorized(`Basic realm="https://${host}/",service="ecr.amazonaws.com"`);
      return this.#manifest(req, res, url.pathname);
    }
    if (host.endsWith('pkg.dev') || host.endsWith('gcr.io')) {
      if (url.pathname === '/v2/token') {
        const b = this.#basic(req);
        if (b === undefined || b[0] !== 'oauth2accesstoken' || b[1] !== this.googleToken) return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] });
        const t = `gtoken-${randomBytes(16).toString('hex')}`;
        this.accessTokens.add(t);
        return sendJson(res, 200, { token: t, expires_in: 3600 });
      }
      const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      if (bearer === undefined || !this.accessTokens.has(bearer))
        return unauthorized(`Bearer realm="https://${host}:${this.port}/v2/token",service="${host}",scope="repository:app:pull"`);
      return this.#manifest(req, res, url.pathname);
    }
    if (host.endsWith('.azurecr.io')) {
      if (url.pathname === '/oauth2/exchange' && req.method === 'POST') {
        const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
        this.exchanges.push(form);
        if (form.grant_type !== 'access_token' || form.service !== host) return sendJson(res, 400, { errors: [{ code: 'UNSUPPORTED', message: 'bad grant' }] });
        if (!this.aadTokens.has(form.access_token ?? '') || (this.tenant !== undefined && form.tenant !== this.tenant))
          return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid AAD token' }] });
        const rt = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 3 * 3600, grant_type: 'refresh_token', iss: 'Azure Container Registry' });
        this.refreshTokens.add(rt);
        return sendJson(res, 200, { refresh_token: rt });
      }
      if (url.pathname === '/oauth2/token' && req.method === 'POST') {
        const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
        if (form.grant_type !== 'refresh_token' || form.service !== host || !this.refreshTokens.has(form.refresh_token ?? ''))
          return sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid refresh token' }] });
        const t = fakeJwt({ exp: Math.floor(Date.now() / 1000) + 75 * 60, access: [{ type: 'repository', name: 'app', actions: ['pull'] }] });
        this.accessTokens.add(t);
        return sendJson(res, 200, { access_token: t });
      }
      const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      if (bearer === undefined || !this.accessTokens.has(bearer))
        return unauthorized(`Bearer realm="https://${host}:${this.port}/oauth2/token",service="${host}",scope="repository:app:pull"`);
      return this.#manifest(req, res, url.pathname);
    }
    sendJson(res, 404, { errors: [{ code: 'NAME_UNKNOWN' }] });
  }
}
