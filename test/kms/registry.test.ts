import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/keys/private.js';
import {
  isKmsReference,
  keyRefScheme,
  BUILTIN_KMS_PROVIDERS,
  kmsSchemes,
  registerKmsProvider,
  resolvePublicKey,
  resolveSigner,
  resolveVerifier,
  unregisterKmsProvider,
} from '../../src/kms/index.js';
import { loadSdk } from '../../src/kms/sdk.js';
import { p1363ToDer } from '../../src/kms/crypto.js';
import { createSign, verify as cryptoVerify } from 'node:crypto';

const ROOT = resolve(import.meta.dirname, '../..');

function runChild(mode: 'import' | 'use-aws'): Promise<{ loaded: string[]; exports: string[]; used?: string }> {
  return new Promise((res, rej) => {
    execFile(
      process.execPath,
      ['--no-warnings', join(import.meta.dirname, 'fixtures/lazy-import.mjs'), join(ROOT, 'src/kms/index.ts'), mode],
      { cwd: ROOT, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err !== null) rej(new Error(`${err.message}\n${stderr}`));
        else res(JSON.parse(stdout) as { loaded: string[]; exports: string[]; used?: string });
      },
    );
  });
}

const SDK_RE = /node_modules\/(@aws-sdk|@smithy|@google-cloud|google-gax|google-auth-library|@grpc|@azure|@kubernetes)\//;

describe('lazy SDK loading', () => {
  it('importing src/kms loads no cloud SDK (checked in a fresh node process)', async () => {
    const r = await runChild('import');
    expect(r.exports).toContain('resolveSigner');
    expect(r.loaded.some((u) => u.endsWith('/src/kms/aws.ts'))).toBe(true);
    expect(r.loaded.filter((u) => SDK_RE.test(u))).toEqual([]);
  });

  it('control: using awskms:// does load @aws-sdk/client-kms (so the check above can fail)', async () => {
    const r = await runChild('use-aws');
    expect(r.used).toBe('KMS_NETWORK');
    expect(r.loaded.some((u) => u.includes('node_modules/@aws-sdk/client-kms/'))).toBe(true);
    expect(r.loaded.some((u) => /@google-cloud|@azure|@kubernetes/.test(u))).toBe(false);
  });

  it('a missing SDK → KMS_SDK_MISSING naming the package to install', async () => {
    const pkg = '@cosign-ts/definitely-not-installed';
    const spec = pkg;
    await expect(loadSdk(pkg, 'mykms://k', () => import(spec))).rejects.toMatchObject({
      code: 'KMS_SDK_MISSING',
      message: expect.stringContaining(`npm install ${pkg}`),
    });
  });
});

describe('scheme registry', () => {
  it('knows the built-in schemes', () => {
    expect(kmsSchemes()).toEqual(expect.arrayContaining(['awskms', 'azurekms', 'gcpkms', 'hashivault', 'k8s', 'openbao']));
    expect(keyRefScheme('awskms:///alias/x')).toBe('awskms');
    expect(keyRefScheme('cosign.key')).toBeUndefined();
    expect(isKmsReference('gcpkms://projects/p')).toBe(true);
    expect(isKmsReference('env://COSIGN_KEY')).toBe(false);
    expect(isKmsReference('./cosign.pub')).toBe(false);
  });

  it('unknown scheme → UNKNOWN_KEY_SCHEME', async () => {
    await expect(resolveSigner('nosuchkms://key')).rejects.toMatchObject({ code: 'UNKNOWN_KEY_SCHEME', message: expect.stringContaining('nosuchkms://key') });
    // userinfo (possibly a credential) is dropped from the message
    const e = (await resolveSigner('nosuchkms://user:s3cretpw@host/key').catch((x: unknown) => x)) as Error;
    expect(e.message).toContain('nosuchkms://host/key');
    expect(e.message).not.toContain('s3cretpw');
    await expect(resolvePublicKey('nosuchkms://key')).rejects.toMatchObject({ code: 'UNKNOWN_KEY_SCHEME' });
  });

  it('a registered provider handles its scheme, and can be removed', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    registerKmsProvider('testkms', (keyRef) =>
      Promise.resolve({
        keyRef,
        publicKey: () => Promise.resolve(publicKey),
        sign: (m: Uint8Array) => Promise.resolve(createSign('sha256').update(m).sign(privateKey)),
      }),
    );
    try {
      const signer = await resolveSigner('testkms://k1');
      expect(signer.keyRef).toBe('testkms://k1');
      const sig = await signer.sign(Buffer.from('m'));
      const v = await resolveVerifier('testkms://k1');
      expect(await v.verify(Buffer.from('m'), sig)).toBe(true);
      expect(kmsSchemes()).toContain('testkms');
    } finally {
      expect(unregisterKmsProvider('testkms')).toBe(true);
    }
    await expect(resolveSigner('testkms://k1')).rejects.toMatchObject({ code: 'UNKNOWN_KEY_SCHEME' });
  });

  it('refuses to register file schemes or malformed ones', () => {
    const p = (): Promise<never> => Promise.reject(new Error('x'));
    expect(() => registerKmsProvider('env', p)).toThrow();
    expect(() => registerKmsProvider('bad scheme', p)).toThrow();
  });

  it('a registered provider takes precedence over a built-in one; unregistering restores the built-in', async () => {
    const seen: string[] = [];
    registerKmsProvider('AWSKMS://', (ref, o) => {
      seen.push(`${ref} ${o.publicKeyOnly === true ? 'public' : 'sign'} ${String(o.providers?.['awskms'])}`);
      return Promise.reject(new Error('mine'));
    });
    try {
      await expect(resolveSigner('awskms:///alias/x', { providers: { awskms: 'cfg' } })).rejects.toThrow('mine');
      await expect(resolvePublicKey('awskms:///alias/x')).rejects.toThrow('mine');
    } finally {
      expect(unregisterKmsProvider('awskms')).toBe(true);
    }
    expect(seen).toEqual(['awskms:///alias/x sign cfg', 'awskms:///alias/x public undefined']);
    const signer = await resolveSigner('awskms:///alias/x', { aws: { region: 'us-east-1' } });
    expect(signer.keyRef).toBe('awskms:///alias/x');
    expect(unregisterKmsProvider('awskms')).toBe(false);
  });

  it('built-in providers work without importing src/kms/index.ts (no registration at import)', async () => {
    const registry = await import('../../src/kms/registry.js');
    expect(Object.keys(registry.BUILTIN_KMS_PROVIDERS).sort()).toEqual(['awskms', 'azurekms', 'gcpkms', 'hashivault', 'k8s', 'openbao']);
    expect(Object.keys(BUILTIN_KMS_PROVIDERS).sort()).toEqual(Object.keys(registry.BUILTIN_KMS_PROVIDERS).sort());
    const signer = await registry.resolveSigner('gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1');
    expect(signer.keyRef).toContain('gcpkms://');
  });

  it('pkcs11: and gitlab:// are UNSUPPORTED, like the cosign features they are', async () => {
    await expect(resolveSigner('pkcs11:token=x')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('pkcs11') });
    await expect(resolvePublicKey('gitlab://group/project')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('gitlab://') });
  });
});

describe('key files', () => {
  let dir: string;
  let pub: KeyObject;
  const password = 'file-password';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kms-files-'));
    const pair = generateKeyPair(password);
    await writeFile(join(dir, 'cosign.key'), pair.privateKeyPem);
    await writeFile(join(dir, 'cosign.pub'), pair.publicKeyPem);
    pub = (await import('node:crypto')).createPublicKey(pair.publicKeyPem);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolveSigner("cosign.key", { password }) reads and decrypts the key file', async () => {
    const signer = await resolveSigner(join(dir, 'cosign.key'), { password });
    const sig = await signer.sign(Buffer.from('file'));
    expect(cryptoVerify('sha256', Buffer.from('file'), pub, sig)).toBe(true);
    expect((await resolvePublicKey(join(dir, 'cosign.pub'))).equals(pub)).toBe(true);
  });

  it('env://VAR', async () => {
    const pem = pub.export({ type: 'spki', format: 'pem' }) as string;
    expect((await resolvePublicKey('env://MY_PUB', { env: { MY_PUB: pem } })).equals(pub)).toBe(true);
  });

  it('an encrypted key asks a password function (once), an unencrypted one never does', async () => {
    let asked = 0;
    const ask = (): Promise<string> => {
      asked++;
      return Promise.resolve(password);
    };
    const signer = await resolveSigner(join(dir, 'cosign.key'), { password: ask });
    expect(cryptoVerify('sha256', Buffer.from('m'), pub, Buffer.from(await signer.sign(Buffer.from('m'))))).toBe(true);
    expect(asked).toBe(1);
    const plain = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await resolveSigner('env://PLAIN', { env: { PLAIN: plain }, password: ask });
    expect(asked).toBe(1);
  });

  it('key URLs only with allowHttp', async () => {
    await expect(resolvePublicKey('https://127.0.0.1:1/cosign.pub')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(resolvePublicKey('http://127.0.0.1:1/cosign.pub', { allowHttp: true })).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringContaining('fetching key http://127.0.0.1:1/cosign.pub'),
    });
  });
});

describe('p1363ToDer', () => {
  it('converts r‖s (including high-bit and leading-zero integers) to DER that node verifies', () => {
    for (const curve of ['P-256', 'P-384', 'P-521'] as const) {
      const size = curve === 'P-256' ? 32 : curve === 'P-384' ? 48 : 66;
      const hash = curve === 'P-256' ? 'sha256' : curve === 'P-384' ? 'sha384' : 'sha512';
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      for (let i = 0; i < 30; i++) {
        const m = Buffer.from(`m${i}`);
        const raw = createSign(hash).update(m).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
        expect(raw.length).toBe(2 * size);
        const der = p1363ToDer(raw, size);
        expect(cryptoVerify(hash, m, publicKey, der)).toBe(true);
        expect(der.equals(Buffer.from(der))).toBe(true);
      }
    }
  });
});
