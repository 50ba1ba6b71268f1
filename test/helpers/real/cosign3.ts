/**
 * A real cosign 3.1 signer for interop tests: a key pair made by `cosign3 generate-key-pair` in a private
 * folder, and helpers that sign or attest an image with it, key-based and offline (no tlog, no signing
 * config: a Sigstore bundle pushed as an OCI 1.1 referrer of the image).
 *
 * ```ts
 * const c3 = await cosign3Signer(work);
 * await c3.sign(reg, `${reg.host}/repo@${digest}`);
 * await c3.attest(reg, `${reg.host}/repo@${digest}`, 'slsaprovenance');
 * ```
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cosign3, cosignRegistryFlags, isolatedToolEnv } from './tools.js';
import type { RealRegistry } from './registry.js';
import type { RunResult } from './proc.js';

/** A registry as the cosign3 helpers need it (a real one, or the in-process test registry). */
export type Cosign3Registry = Pick<RealRegistry, 'url' | 'host'> &
  Partial<Pick<RealRegistry, 'caFile' | 'username' | 'password' | 'clientCertFile' | 'clientKeyFile'>>;

/** A cosign 3 key pair and what signs with it. */
export interface Cosign3Signer {
  /** `cosign.key` (encrypted with `COSIGN_PASSWORD` of `env`). */
  readonly keyPath: string;
  /** `cosign.pub`. */
  readonly pubPath: string;
  /** Private HOME / DOCKER_CONFIG / TUF_ROOT and `COSIGN_PASSWORD`. */
  readonly env: Record<string, string>;
  /** `cosign3 sign` of `image` (by digest); throws with cosign's stderr when it fails. */
  sign(reg: Cosign3Registry, image: string, extra?: readonly string[]): Promise<RunResult>;
  /** `cosign3 attest --type TYPE` of `image` with a small predicate; throws with cosign's stderr when it fails. */
  attest(reg: Cosign3Registry, image: string, type?: string, extra?: readonly string[]): Promise<RunResult>;
  /** `cosign3 verify --key` (tlog ignored) of `image`; the result as is. */
  verify(reg: Cosign3Registry, image: string): Promise<RunResult>;
  /** `cosign3 verify-attestation --key --type TYPE` (tlog ignored) of `image`; the result as is. */
  verifyAttestation(reg: Cosign3Registry, image: string, type?: string): Promise<RunResult>;
}

/** Make a cosign 3 key pair under `work` (a fresh temporary folder) and return its signer. */
export async function cosign3Signer(work: string, password = 'pw3'): Promise<Cosign3Signer> {
  const env = { ...(await isolatedToolEnv(path.join(work, 'home'))), COSIGN_PASSWORD: password };
  const keyDir = path.join(work, 'cosign3-key');
  await mkdir(keyDir, { recursive: true });
  const gen = await cosign3(['generate-key-pair'], { cwd: keyDir, env });
  if (gen.code !== 0) throw new Error(`cosign3 generate-key-pair failed: ${gen.stderr}`);
  const predicate = path.join(work, 'cosign3-predicate.json');
  await writeFile(predicate, '{"buildType":"https://example.com/build","builder":{"id":"https://example.com/builder"}}');
  const keyPath = path.join(keyDir, 'cosign.key');
  const pubPath = path.join(keyDir, 'cosign.pub');
  const signing = (reg: Cosign3Registry): string[] => [
    '--key',
    keyPath,
    '--tlog-upload=false',
    '--use-signing-config=false',
    '--yes',
    ...cosignRegistryFlags(reg),
  ];
  const ok = (what: string, r: RunResult): RunResult => {
    if (r.code !== 0) throw new Error(`cosign3 ${what} failed (${r.code}): ${r.stderr}`);
    return r;
  };
  return {
    keyPath,
    pubPath,
    env,
    sign: async (reg, image, extra = []) => ok('sign', await cosign3(['sign', ...signing(reg), ...extra, image], { env })),
    attest: async (reg, image, type = 'slsaprovenance', extra = []) =>
      ok('attest', await cosign3(['attest', ...signing(reg), '--type', type, '--predicate', predicate, ...extra, image], { env })),
    verify: (reg, image) => cosign3(['verify', '--key', pubPath, '--insecure-ignore-tlog=true', ...cosignRegistryFlags(reg), image], { env }),
    verifyAttestation: (reg, image, type = 'slsaprovenance') =>
      cosign3(['verify-attestation', '--key', pubPath, '--insecure-ignore-tlog=true', '--type', type, ...cosignRegistryFlags(reg), image], { env }),
  };
}
