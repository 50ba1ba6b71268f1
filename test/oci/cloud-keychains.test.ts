/**
 * The cloud keychains with their real SDKs over real HTTP: `@aws-sdk/client-ecr` against a local ECR
 * API (SigV4 checked), `google-auth-library` against a local GCE metadata server, `@azure/identity`
 * against a local managed-identity endpoint, and ACR's `/oauth2/exchange` served by the registry host
 * itself. The registries are HTTPS servers answering for the cloud host names (certificates for those
 * names from a test CA; `connectTo` sends the names to 127.0.0.1).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCosignError, type CosignError } from '../../src/errors.js';
import {
  acrKeychain,
  cloudKeychain,
  ecrKeychain,
  githubKeychain,
  googleKeychain,
  isAcrRegistry,
  isGoogleRegistry,
  parseEcrRegistry,
} from '../../src/oci/cloud-keychains.js';
import { RegistryClient } from '../../src/oci/client.js';
import type { Keychain } from '../../src/oci/keychain.js';
import { parseReference } from '../../src/reference.js';
import { makeTestCertificates, skipReal, type TestCertificates } from '../helpers/real/registry.js';
import { AppServiceIdentityServer, CLOUD_MANIFEST, CloudRegistryServer, EcrApiServer, GceMetadataServer } from './servers/cloud.js';

const ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const AR_HOST = 'europe-docker.pkg.dev';
const GCR_HOST = 'eu.gcr.io';
const ACR_HOST = 'cosigntest.azurecr.io';

describe('host patterns (as go-containerregistry k8schain and the credential helpers match them)', () => {
  it('ECR: account, FIPS and region from the host; other AWS partitions; port ignored', () => {
    expect(parseEcrRegistry(ECR_HOST)).toEqual({ accountId: '123456789012', region: 'us-east-1', fips: false });
    expect(parseEcrRegistry('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com:443')).toEqual({
      accountId: '123456789012',
      region: 'us-gov-west-1',
      fips: true,
    });
    expect(parseEcrRegistry('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn')?.region).toBe('cn-north-1');
    expect(parseEcrRegistry('123456789012.dkr-ecr.eu-west-1.on.aws')?.region).toBe('eu-west-1');
    for (const no of [
      'public.ecr.aws',
      '12345678901.dkr.ecr.us-east-1.amazonaws.com',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com.example.com',
      'x123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'registry.example.com',
    ])
      expect(parseEcrRegistry(no), no).toBeUndefined();
  });
  it('Google: gcr.io, *.gcr.io, *.pkg.dev, *.google.com', () => {
    for (const yes of ['gcr.io', 'eu.gcr.io', 'us-docker.pkg.dev', 'europe-west1-docker.pkg.dev:443', 'marketplace.gcr.io', 'x.google.com'])
      expect(isGoogleRegistry(yes), yes).toBe(true);
    for (const no of ['pkg.dev', 'gcr.io.example.com', 'evilgcr.io', 'docker.io', 'ghcr.io']) expect(isGoogleRegistry(no), no).toBe(false);
  });
  it('ACR: NAME.azurecr.io and the sovereign clouds, anchored', () => {
    for (const yes of ['myreg.azurecr.io', 'myreg.azurecr.cn', 'myreg.azurecr.us', 'myreg.azurecr.de', 'myreg.westeurope.azurecr.io', 'my-reg.azurecr.io:443'])
      expect(isAcrRegistry(yes), yes).toBe(true);
    for (const no of ['azurecr.io', 'myreg.azurecr.io.example.com', 'mcr.microsoft.com', 'myreg.azurecr.com']) expect(isAcrRegistry(no), no).toBe(false);
  });
  it('a cloud keychain never answers for another host (no SDK loaded, no token service asked)', async () => {
    const errors: CosignError[] = [];
    const kc = cloudKeychain({ onError: (e) => errors.push(e), strict: true });
    for (const r of ['registry.example.com', 'docker.io', 'index.docker.io', '127.0.0.1:5000', 'quay.io', 'public.ecr.aws'])
      expect(await kc.resolve(r, 'app')).toBeUndefined();
    expect(errors).toEqual([]);
  });
  it('GitHub: ghcr.io from GITHUB_TOKEN (user GITHUB_ACTOR, else "unset"), anonymous without it', async () => {
    expect(await githubKeychain({ env: { GITHUB_TOKEN: 'ghs_x', GITHUB_ACTOR: 'octo' } }).resolve('ghcr.io')).toEqual({ username: 'octo', password: 'ghs_x' });
    expect(await githubKeychain({ env: { GITHUB_TOKEN: 'ghs_x' } }).resolve('ghcr.io')).toEqual({ username: 'unset', password: 'ghs_x' });
    expect(await githubKeychain({ env: {} }).resolve('ghcr.io')).toBeUndefined();
    expect(await githubKeychain({ env: { GITHUB_TOKEN: 'ghs_x' } }).resolve('docker.io')).toBeUndefined();
  });
});

describe.skipIf(skipReal(['openssl']))('cloud keychains against local token services and HTTPS registries', () => {
  let dir: string;
  let certs: TestCertificates;
  let registry: CloudRegistryServer;
  let ecr: EcrApiServer;
  let gce: GceMetadataServer;
  let msi: AppServiceIdentityServer;
  const saved: Record<string, string | undefined> = {};
  const setEnv = (k: string, v: string | undefined): void => {
    if (!(k in saved)) saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cloudkc-'));
    certs = await makeTestCertificates(path.join(dir, 'tls'), { dns: [ECR_HOST, AR_HOST, GCR_HOST, ACR_HOST] });
    registry = await CloudRegistryServer.start(certs);
    ecr = await EcrApiServer.start();
    gce = await GceMetadataServer.start();
    msi = await AppServiceIdentityServer.start();
    registry.ecrPassword = ecr.password;
    registry.googleToken = gce.token;
    registry.aadTokens = msi.issued;
    registry.tenant = msi.tenant;
    // google-auth-library: no key file, no gcloud ADC file: the metadata server it is.
    setEnv('GOOGLE_APPLICATION_CREDENTIALS', undefined);
    setEnv('CLOUDSDK_CONFIG', path.join(dir, 'gcloud'));
    setEnv('GCE_METADATA_HOST', gce.host);
    // A project id, so google-auth-library does not spawn `gcloud config config-helper` to look for one.
    setEnv('GOOGLE_CLOUD_PROJECT', 'cosign-ts-test');
    setEnv('GCE_METADATA_IP', undefined);
    setEnv('METADATA_SERVER_DETECTION', undefined);
    // @azure/identity: no service principal in the environment: App Service managed identity.
    for (const k of [
      'AZURE_CLIENT_ID',
      'AZURE_TENANT_ID',
      'AZURE_CLIENT_SECRET',
      'AZURE_FEDERATED_TOKEN_FILE',
      'AZURE_AUTHORITY_HOST',
      'MSI_ENDPOINT',
      'MSI_SECRET',
    ])
      setEnv(k, undefined);
    setEnv('IDENTITY_ENDPOINT', msi.endpoint);
    setEnv('IDENTITY_HEADER', msi.header);
  }, 60_000);

  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await Promise.all([registry?.close(), ecr?.close(), gce?.close(), msi?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  const client = (keychain: Keychain): RegistryClient =>
    new RegistryClient({
      keychain,
      ca: readFileSync(certs.caFile, 'utf8'),
      connectTo: { [ECR_HOST]: '127.0.0.1', [AR_HOST]: '127.0.0.1', [GCR_HOST]: '127.0.0.1', [ACR_HOST]: '127.0.0.1' },
      attempts: 1,
    });
  const ref = (host: string): ReturnType<typeof parseReference> => parseReference(`${host}:${registry.port}/app:v1`);
  const ecrConfig = (): Record<string, unknown> => ({
    endpoint: ecr.url,
    credentials: { accessKeyId: ecr.accessKeyId, secretAccessKey: ecr.secretAccessKey },
    maxAttempts: 1,
  });

  it('ECR: GetAuthorizationToken for the account in the host region (SigV4), basic AWS:<token>, reused until half its life', async () => {
    const kc = ecrKeychain({ clientConfig: ecrConfig(), strict: true });
    const c = client(kc);
    const m = await c.getManifest(ref(ECR_HOST));
    expect(Buffer.from(m.bytes)).toEqual(CLOUD_MANIFEST);
    await c.getManifest(ref(ECR_HOST));
    expect(ecr.calls).toEqual([{ registryIds: ['123456789012'], region: 'us-east-1' }]);
    expect(ecr.authFailures).toEqual([]);
    c.close();
  });

  it('ECR: a token past half its lifetime is fetched again', async () => {
    ecr.lifetime = 1; // half a second of validity
    const kc = ecrKeychain({ clientConfig: ecrConfig(), strict: true });
    const before = ecr.calls.length;
    await kc.resolve(`${ECR_HOST}:${registry.port}`);
    await new Promise((r) => setTimeout(r, 700));
    await kc.resolve(`${ECR_HOST}:${registry.port}`);
    expect(ecr.calls.length - before).toBe(2);
    ecr.lifetime = 12 * 3600;
  });

  it('ECR: access denied → onError with the reason (no secret) and anonymous; strict throws REGISTRY_UNAUTHORIZED', async () => {
    ecr.deny = true;
    try {
      const errors: CosignError[] = [];
      const kc = ecrKeychain({ clientConfig: ecrConfig(), onError: (e) => errors.push(e) });
      const calls = ecr.calls.length;
      expect(await kc.resolve(ECR_HOST)).toBeUndefined();
      // Remembered for CLOUD_FAILURE_BACKOFF_MS: the next image does not ask again.
      expect(await kc.resolve(ECR_HOST)).toBeUndefined();
      expect(ecr.calls.length - calls).toBe(1);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.code).toBe('REGISTRY_UNAUTHORIZED');
      expect(errors[0]?.message).toMatch(/ECR GetAuthorizationToken for 123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com .*AccessDenied/);
      expect(errors[0]?.message).not.toContain(ecr.secretAccessKey);
      const strict = ecrKeychain({ clientConfig: ecrConfig(), strict: true }).resolve(ECR_HOST);
      await expect(strict).rejects.toSatisfy((e: unknown) => isCosignError(e, 'REGISTRY_UNAUTHORIZED'));
      // The registry then answers 401 to the anonymous client.
      await expect(client(ecrKeychain({ clientConfig: ecrConfig() })).getManifest(ref(ECR_HOST))).rejects.toSatisfy((e: unknown) =>
        isCosignError(e, 'REGISTRY_UNAUTHORIZED'),
      );
    } finally {
      ecr.deny = false;
    }
  });

  it('ECR: wrong AWS secret → the SigV4 check fails at the service, reported without the secret', async () => {
    const errors: CosignError[] = [];
    const bad = 'wrongSecretThatMustNotAppearAnywhere0000';
    const kc = ecrKeychain({
      clientConfig: { ...ecrConfig(), credentials: { accessKeyId: ecr.accessKeyId, secretAccessKey: bad } },
      onError: (e) => errors.push(e),
    });
    expect(await kc.resolve(ECR_HOST)).toBeUndefined();
    expect(ecr.authFailures).toContain('InvalidSignatureException');
    expect(JSON.stringify(errors.map((e) => [e.message, e.details]))).not.toContain(bad);
  });

  it('Google (Artifact Registry and GCR): the metadata server token as oauth2accesstoken, through the registry token endpoint', async () => {
    const kc = googleKeychain({ strict: true });
    const c = client(kc);
    expect(Buffer.from((await c.getManifest(ref(AR_HOST))).bytes)).toEqual(CLOUD_MANIFEST);
    expect(Buffer.from((await c.getManifest(ref(GCR_HOST))).bytes)).toEqual(CLOUD_MANIFEST);
    expect(await kc.resolve(AR_HOST)).toEqual({ username: 'oauth2accesstoken', password: gce.token });
    // google-auth-library caches the token: one metadata token request for all of it.
    expect(gce.tokenRequests).toHaveLength(1);
    c.close();
  });

  it('Azure ACR: managed identity token → /oauth2/exchange (tenant from the token) → refresh token → repository token', async () => {
    const kc = acrKeychain({ strict: true });
    const c = client(kc);
    expect(Buffer.from((await c.getManifest(ref(ACR_HOST))).bytes)).toEqual(CLOUD_MANIFEST);
    expect(msi.resources.at(-1)).toBe('https://management.azure.com');
    const ex = registry.exchanges.at(-1);
    expect(ex).toMatchObject({ grant_type: 'access_token', service: ACR_HOST, tenant: msi.tenant });
    // The refresh token is reused: a second image needs no new exchange.
    const n = registry.exchanges.length;
    await c.getManifest(ref(ACR_HOST));
    expect(registry.exchanges.length).toBe(n);
    const creds = await kc.resolve(`${ACR_HOST}:${registry.port}`);
    expect(creds).toHaveProperty('identityToken');
    c.close();
  });

  it('Azure ACR: exchange refused → REGISTRY_UNAUTHORIZED naming the exchange URL, never the tokens', async () => {
    const saved = registry.aadTokens;
    registry.aadTokens = new Set();
    try {
      const errors: CosignError[] = [];
      const c = client(acrKeychain({ onError: (e) => errors.push(e) }));
      await expect(c.getManifest(ref(ACR_HOST))).rejects.toSatisfy((e: unknown) => isCosignError(e, 'REGISTRY_UNAUTHORIZED'));
      expect(errors[0]?.message).toMatch(/ACR token exchange at https:\/\/cosigntest\.azurecr\.io:\d+\/oauth2\/exchange was refused \(HTTP 401\)/);
      expect(JSON.stringify(errors.map((e) => e.message))).not.toContain(msi.token);
      c.close();
    } finally {
      registry.aadTokens = saved;
    }
  });

  it('cloudKeychain: each registry gets its own cloud, one request path each', async () => {
    const c = client(cloudKeychain({ strict: true, ecr: { clientConfig: ecrConfig() } }));
    for (const h of [ECR_HOST, AR_HOST, ACR_HOST]) expect(Buffer.from((await c.getManifest(ref(h))).bytes)).toEqual(CLOUD_MANIFEST);
    c.close();
  });
});
