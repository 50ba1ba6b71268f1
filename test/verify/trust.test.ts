/**
 * Trust sources for keyless verification: trusted_root.json, PEM pieces, cosign's SIGSTORE_* files,
 * and the public-good trusted root through @sigstore/tuf offline (cached, else embedded).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isCosignError } from '../../src/errors.js';
import { applySigstoreEnv, publicGoodTrust, trustFromPems, trustFromTrustedRootJson } from '../../src/verify/trust.js';
import { fixture, fixtureText } from '../helpers/fixtures.js';

function code(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isCosignError(e) ? e.code : 'other';
  }
}

describe('trustFromTrustedRootJson', () => {
  it('reads a v0.1 trusted root: CAs, tlogs (Rekor keys), ctlogs, TSAs', () => {
    const t = trustFromTrustedRootJson(fixture('sigstore-go/trust/trusted-root-public-good.json'), 'pgi');
    expect(t.source).toBe('pgi');
    expect(t.material.ctlogs.length).toBeGreaterThan(0);
    expect(t.rekorKeys.some((k) => k.logId === 'c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d')).toBe(true);
  });
  it('refuses what is not a trusted root', () => {
    expect(code(() => trustFromTrustedRootJson(Buffer.from('[]')))).toBe('TRUST_ROOT_INVALID');
    expect(code(() => trustFromTrustedRootJson(Buffer.from('{"mediaType":"application/json"}')))).toBe('TRUST_ROOT_INVALID');
    expect(code(() => trustFromTrustedRootJson(Buffer.from('{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}')))).toBe(
      'TRUST_ROOT_INVALID',
    );
    expect(code(() => trustFromTrustedRootJson(Buffer.from('{')))).toBe('TRUST_ROOT_INVALID');
  });
});

describe('trustFromPems and SIGSTORE_* files', () => {
  it('builds a CA from roots and intermediates and logs from public keys; replaces only the parts given', () => {
    const base = trustFromTrustedRootJson(fixture('sigstore-go/trust/trusted-root-public-good.json'));
    const t = trustFromPems({ rekorPublicKeys: fixtureText('containers-image/keys/rekor.pub') }, base);
    expect(t.material.certificateAuthorities).toBe(base.material.certificateAuthorities);
    expect(t.rekorKeys).toHaveLength(1);
    expect(code(() => trustFromPems({ fulcioCertificates: 'no pem here' }))).toBe('TRUST_ROOT_INVALID');
  });
  it('applySigstoreEnv reads the files the variables name, and is a no-op without them', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'trust-'));
    const root = path.join(dir, 'fulcio.pem');
    await writeFile(root, fixtureText('containers-image/keys/fulcio_v1.crt.pem'));
    expect(await applySigstoreEnv({})).toBeUndefined();
    const t = await applySigstoreEnv({ SIGSTORE_ROOT_FILE: root });
    expect(t?.material.certificateAuthorities[0]?.certChain).toHaveLength(1);
    await expect(applySigstoreEnv({ SIGSTORE_REKOR_PUBLIC_KEY: path.join(dir, 'missing.pem') })).rejects.toMatchObject({ code: 'TRUST_ROOT_INVALID' });
  });
});

describe('publicGoodTrust offline', () => {
  it('works with an empty cache and no network: the embedded trusted root', async () => {
    const cachePath = await mkdtemp(path.join(tmpdir(), 'tuf-'));
    const t = await publicGoodTrust({ cachePath, offline: true });
    expect(t.material.certificateAuthorities.length).toBeGreaterThan(0);
    expect(t.rekorKeys.length).toBeGreaterThan(0);
  });
  it('online against an unreachable mirror fails closed with TRUST_ROOT_INVALID', async () => {
    const cachePath = await mkdtemp(path.join(tmpdir(), 'tuf-'));
    await expect(publicGoodTrust({ cachePath, mirrorURL: 'http://127.0.0.1:1', timeoutMs: 500 })).rejects.toMatchObject({ code: 'TRUST_ROOT_INVALID' });
  });
});
