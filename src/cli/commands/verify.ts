/**
 * `cosign-ts verify --key REF IMAGE…`: verify image signatures like `cosign verify`, with the same
 * stderr check list, the same stdout bytes and the same exit statuses (10 no signatures, 11 image tag
 * not found, 12 no matching signatures).
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { isCosignError } from '../../errors.js';
import { stat } from 'node:fs/promises';
import { MAX_KEY_FILE_BYTES, MAX_PAYLOAD_FILE_BYTES, readFileLimited } from '../../internal/read-file.js';
import type { Command } from '../command.js';
import { KEYLESS_FLAGS, REGISTRY_FLAGS } from '../command.js';
import type { CliContext } from '../context.js';
import { out, warn } from '../context.js';
import { parseAnnotations } from '../annotations.js';
import { CliError, EXIT, unsupported } from '../errors.js';
import type { Flags } from '../flags.js';
import { keyOptions } from '../keyref.js';
import { progressBar } from '../progress.js';
import type { RegistrySettings } from '../registry.js';
import { registrySettings } from '../registry.js';
import type { ImageReference } from '../../reference.js';
import type { TlogOptions } from '../../verify/layer.js';
import type { IdentityAuthority } from '../../verify/authority.js';
import type { KeylessOptions } from '../../verify/keyless.js';

export const command: Command = {
  name: 'verify',
  short: 'Verify a signature on the supplied container image',
  long: `Verify signature and annotations on an image.

cosign-ts verifies with a public key (file, env://, URL, KMS URI or Kubernetes secret), or
keyless: without --key, the signing certificate must chain to a Fulcio root of the trusted root
(--trusted-root, else the SIGSTORE_* files, else the public-good instance through TUF; --offline
uses the cached or embedded trusted root), carry an SCT, be logged in Rekor (SET or inclusion
proof) and name the identity given by --certificate-identity[-regexp] and
--certificate-oidc-issuer[-regexp] (and --certificate-github-workflow-*).
Signatures made with --tlog-upload=false have no transparency-log entry: verify them with
--insecure-ignore-tlog=true, as with cosign. Like cosign 3, Sigstore bundles attached to the
image as OCI 1.1 referrers are looked for first, then the legacy .sig signatures.

stdout carries exactly what cosign prints: a newline, the JSON array of the verified
payloads, and a newline (-o text: one raw payload per line). stderr lists the checks performed.`,
  usage: '[flags] <image uri> [<image uri> ...]',
  examples: `  cosign-ts verify --key <key path>|<key url>|<kms uri> --insecure-ignore-tlog=true <image uri> [<image uri> ...]

  # verify image with an on-disk public key
  cosign-ts verify --key cosign.pub --insecure-ignore-tlog=true <IMAGE>

  # verify image keyless, signed by a GitHub Actions workflow, against an air-gapped trusted root
  cosign-ts verify --trusted-root trusted_root.json --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com <IMAGE>

  # verify multiple images
  cosign-ts verify --key cosign.pub --insecure-ignore-tlog=true <IMAGE_1> <IMAGE_2> ...

  # additionally verify specified annotations
  cosign-ts verify --key cosign.pub --insecure-ignore-tlog=true -a key1=val1 -a key2=val2 <IMAGE>

  # verify image with a key stored in an environment variable
  cosign-ts verify --key env://[ENV_VAR] --insecure-ignore-tlog=true <IMAGE>

  # verify image with public key stored in a KMS or a Kubernetes secret
  cosign-ts verify --key awskms://[ENDPOINT]/[ID/ALIAS/ARN] --insecure-ignore-tlog=true <IMAGE>
  cosign-ts verify --key gcpkms://projects/[PROJECT]/locations/global/keyRings/[KEYRING]/cryptoKeys/[KEY] --insecure-ignore-tlog=true <IMAGE>
  cosign-ts verify --key hashivault://[KEY] --insecure-ignore-tlog=true <IMAGE>
  cosign-ts verify --key k8s://[NAMESPACE]/[KEY] --insecure-ignore-tlog=true <IMAGE>

  # verify a signature and payload from files, without reading signatures from the registry
  cosign-ts verify --key cosign.pub --insecure-ignore-tlog=true --signature sig.b64 --payload payload.json <IMAGE DIGEST>

  # verify Rekor bundles offline with a given Rekor public key
  SIGSTORE_REKOR_PUBLIC_KEY=rekor.pub cosign-ts verify --key cosign.pub <IMAGE>

  # pipe the verified payloads to jq
  cosign-ts verify --key cosign.pub --insecure-ignore-tlog=true <IMAGE> | jq .`,
  notes: `Environment:
  COSIGN_REPOSITORY          read signatures from this repository (registry/repo)
  SIGSTORE_REKOR_PUBLIC_KEY  Rekor public key (PEM file) to verify transparency-log bundles offline
  SIGSTORE_ROOT_FILE         keyless: Fulcio root and intermediate certificates (PEM file)
  SIGSTORE_CT_LOG_PUBLIC_KEY_FILE  keyless: CT log public key (PEM file) for SCTs
  SIGSTORE_TSA_CERTIFICATE_FILE    keyless: TSA certificate chain (PEM file)
  TUF_ROOT                   keyless: TUF cache directory (default: sigstore-js's, ~/.local/share/sigstore-js)

Exit status (the same as cosign 2.5):
  0   all images verified
  1   any other error (usage, registry or network, key)
  10  no signatures found
  11  image tag or repository not found
  12  no matching signatures (bad signature, digest or annotation mismatch)`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the public key file, KMS URI or Kubernetes Secret' },
    { name: 'annotations', short: 'a', type: 'stringSlice', help: 'extra key=value pairs to verify' },
    {
      name: 'insecure-ignore-tlog',
      type: 'boolean',
      default: false,
      help: 'ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log. Artifacts cannot be publicly verified when not included in a log',
    },
    {
      name: 'private-infrastructure',
      type: 'boolean',
      default: false,
      help: 'skip transparency log verification when verifying artifacts in a privately deployed infrastructure',
    },
    { name: 'check-claims', type: 'boolean', default: true, help: 'whether to check the claims found (cosign-ts: always true)' },
    { name: 'output', short: 'o', type: 'string', default: 'json', help: 'output format for the signing image information (json|text)' },
    { name: 'signature', type: 'string', default: '', help: "signature content or path or remote URL (verify this signature instead of the registry's)" },
    { name: 'payload', type: 'string', default: '', help: 'payload path or remote URL (with --signature)' },
    { name: 'offline', type: 'boolean', default: false, help: 'only allow offline verification (cosign-ts never queries Rekor online)' },
    {
      name: 'rekor-url',
      type: 'string',
      default: 'https://rekor.sigstore.dev',
      help: 'address of rekor STL server (unused: cosign-ts never queries Rekor online)',
    },
    {
      name: 'signature-digest-algorithm',
      type: 'string',
      default: 'sha256',
      help: 'digest algorithm to use when processing a signature (sha256|sha384|sha512)',
    },
    {
      name: 'max-workers',
      type: 'string',
      default: '10',
      help: 'the amount of maximum workers for parallel executions (cosign-ts: images verified at once and connections per registry, at most 256)',
    },
    {
      name: 'local-image',
      type: 'boolean',
      default: false,
      help: "whether the specified image is a path to an image saved locally via 'cosign save'",
    },
    { name: 'attachment', type: 'string', default: '', help: 'DEPRECATED, related image attachment to verify (not supported)' },
    { name: 'new-bundle-format', type: 'boolean', default: false, help: 'expect the signature to be packaged in a Sigstore bundle (not supported yet)' },
    { name: 'experimental-oci11', type: 'boolean', default: false, help: 'set to true to enable experimental OCI 1.1 behaviour (not supported yet)' },
    {
      name: 'trusted-root',
      type: 'string',
      default: '',
      help: 'Path to a Sigstore TrustedRoot JSON file (keyless; default: the public-good instance through TUF)',
    },
    { name: 'use-signed-timestamps', type: 'boolean', default: false, help: 'require a verified RFC 3161 timestamp (keyless)' },
    { name: 'timestamp-certificate-chain', type: 'string', default: '', help: 'path to the PEM certificate chain of the timestamp authority (keyless)' },
    { name: 'insecure-ignore-sct', type: 'boolean', default: false, help: 'when set, verification will not check that a certificate contains an embedded SCT' },
    { name: 'certificate-identity', type: 'string', default: '', help: 'The identity expected in a valid Fulcio certificate (exact match)' },
    {
      name: 'certificate-identity-regexp',
      type: 'string',
      default: '',
      help: 'A regular expression alternative to --certificate-identity (unanchored)',
    },
    {
      name: 'certificate-oidc-issuer',
      type: 'string',
      default: '',
      help: 'The OIDC issuer expected in a valid Fulcio certificate (exact match)',
    },
    {
      name: 'certificate-oidc-issuer-regexp',
      type: 'string',
      default: '',
      help: 'A regular expression alternative to --certificate-oidc-issuer (unanchored)',
    },
    {
      name: 'certificate',
      type: 'string',
      default: '',
      help: 'path to the signing certificate (PEM), used instead of the one on the signature; it must chain to the trusted root or --certificate-chain (keyless)',
    },
    {
      name: 'certificate-chain',
      type: 'string',
      default: '',
      help: 'path to a list of CA certificates in PEM format, intermediates then root, trusted for the signing certificate (keyless)',
    },
    { name: 'ca-roots', type: 'string', default: '', help: 'path to a bundle file of CA certificates in PEM format (not supported yet)' },
    { name: 'ca-intermediates', type: 'string', default: '', help: 'path to a file of intermediate CA certificates in PEM format (not supported yet)' },
    {
      name: 'certificate-github-workflow-name',
      type: 'string',
      default: '',
      help: 'contains the name claim from the GitHub OIDC Identity token that contains the CI/CD workflow name (exact match)',
    },
    {
      name: 'certificate-github-workflow-ref',
      type: 'string',
      default: '',
      help: 'contains the ref claim from the GitHub OIDC Identity token that contains the CI/CD workflow ref (exact match)',
    },
    {
      name: 'certificate-github-workflow-repository',
      type: 'string',
      default: '',
      help: 'contains the repository claim from the GitHub OIDC Identity token that contains the CI/CD workflow repository (exact match)',
    },
    {
      name: 'certificate-github-workflow-sha',
      type: 'string',
      default: '',
      help: 'contains the sha claim from the GitHub OIDC Identity token that contains the CI/CD workflow sha (exact match)',
    },
    {
      name: 'certificate-github-workflow-trigger',
      type: 'string',
      default: '',
      help: 'contains the trigger claim from the GitHub OIDC Identity token that contains the CI/CD workflow trigger (exact match)',
    },
    { name: 'sct', type: 'string', default: '', help: 'keyless only (not supported yet)' },
    { name: 'sk', type: 'boolean', default: false, help: 'whether to use a hardware security key (not supported yet)' },
    { name: 'slot', type: 'string', default: '', help: 'security key slot (not supported yet)' },
    ...REGISTRY_FLAGS,
  ],
  args: { min: 1, max: Infinity },
  run: runVerify,
};

type HashName = 'sha256' | 'sha384' | 'sha512';

interface Prepared {
  /** Key-based verification: the key (absent in keyless mode). */
  readonly publicKey?: KeyObject;
  readonly keyRef: string;
  /** Keyless verification: the certificate identity and the trust. */
  readonly identity?: IdentityAuthority;
  readonly keyless?: KeylessOptions;
  readonly hash: HashName;
  readonly annotations: Record<string, string> | undefined;
  readonly tlog: TlogOptions | undefined;
  readonly text: boolean;
}

async function prepare(ctx: CliContext, flags: Flags): Promise<Prepared> {
  if (flags.str('attachment') !== '') throw unsupported('verifying attachments (--attachment)');
  if (flags.bool('new-bundle-format')) throw unsupported('Sigstore bundle signatures (--new-bundle-format)');
  if (flags.bool('experimental-oci11')) throw unsupported('OCI 1.1 referrer signatures (--experimental-oci11)');
  if (flags.bool('sk')) throw unsupported('hardware security keys (--sk)');
  if (flags.str('attachment-tag-prefix') !== '') throw unsupported('--attachment-tag-prefix with verify');
  if (!flags.bool('check-claims')) throw unsupported('skipping the claim checks (--check-claims=false)');
  const keyless = KEYLESS_FLAGS.filter((f) => flags.str(f) !== '');
  const keyRef = flags.str('key');
  if (keyRef === '') return prepareKeyless(ctx, flags);
  if (keyless.length > 0) {
    // cosign: "--key and --certificate-identity are mutually exclusive" (any identity flag with a key).
    throw new CliError(`--key and --${keyless[0]} cannot be used together`, EXIT.ERROR, 'USAGE');
  }
  if (flags.str('trusted-root') !== '') throw unsupported('--trusted-root with --key');
  if (flags.bool('use-signed-timestamps') || flags.str('timestamp-certificate-chain') !== '') throw unsupported('RFC 3161 timestamp verification with --key');
  const alg = flags.str('signature-digest-algorithm');
  if (alg !== 'sha256' && alg !== 'sha384' && alg !== 'sha512') {
    if (alg === 'sha224') throw unsupported('--signature-digest-algorithm sha224');
    throw new CliError(`unknown digest algorithm: ${alg}`, EXIT.ERROR, 'USAGE');
  }
  if (!/^\d+$/.test(flags.str('max-workers')) || Number(flags.str('max-workers')) < 1) {
    throw new CliError(`invalid argument ${JSON.stringify(flags.str('max-workers'))} for "--max-workers" flag`, EXIT.ERROR, 'USAGE');
  }
  const ignoreTlog = flags.bool('insecure-ignore-tlog') || flags.bool('private-infrastructure');
  let tlog: TlogOptions | undefined;
  if (flags.bool('insecure-ignore-tlog')) {
    warn(ctx, 'Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.');
  }
  if (!ignoreTlog) {
    const rekorFile = ctx.env.SIGSTORE_REKOR_PUBLIC_KEY;
    if (rekorFile === undefined || rekorFile === '') {
      throw new CliError(
        'transparency-log verification needs the Rekor public key, which cosign-ts does not download (no TUF, no online Rekor lookups): ' +
          'pass --insecure-ignore-tlog=true for signatures made with --tlog-upload=false, or set SIGSTORE_REKOR_PUBLIC_KEY to a Rekor public key file to verify Rekor bundles offline',
        EXIT.ERROR,
        'UNSUPPORTED',
      );
    }
    let pem: string;
    try {
      pem = await readFileLimited(rekorFile, MAX_KEY_FILE_BYTES, 'Rekor public key file', 'utf8');
    } catch (e) {
      if (isCosignError(e, 'TOO_LARGE'))
        throw new CliError(`reading SIGSTORE_REKOR_PUBLIC_KEY: ${(e as Error).message}`, EXIT.ERROR, 'TOO_LARGE', { cause: e });
      throw new CliError(`reading SIGSTORE_REKOR_PUBLIC_KEY ${rekorFile}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const { rekorKey } = await import('../../artifact/rekor.js');
    tlog = { rekorKeys: [rekorKey(pem)], required: true };
  }
  let annotations: Record<string, string> | undefined;
  try {
    annotations = parseAnnotations(flags.list('annotations'));
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.ERROR, 'USAGE');
  }
  const { resolvePublicKey } = await import('../../kms/registry.js');
  const publicKey = await resolvePublicKey(keyRef, keyOptions(ctx));
  return { publicKey, keyRef, hash: alg, annotations, tlog, text: flags.str('output') === 'text' };
}

/** Keyless mode (no --key): the certificate identity flags and the trust (--trusted-root, SIGSTORE_* files, TUF). */
async function prepareKeyless(ctx: CliContext, flags: Flags): Promise<Prepared> {
  for (const f of ['ca-roots', 'ca-intermediates', 'sct', 'signature']) {
    if (flags.str(f) !== '') throw unsupported(`--${f} in keyless mode`);
  }
  const { identity, keyless } = await keylessFromFlags(ctx, flags);
  let annotations: Record<string, string> | undefined;
  try {
    annotations = parseAnnotations(flags.list('annotations'));
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.ERROR, 'USAGE');
  }
  return { keyRef: '', identity, keyless, hash: 'sha256', annotations, tlog: undefined, text: flags.str('output') === 'text' };
}

/**
 * The keyless verification flags shared by `verify` and `verify-blob`: the certificate identity, the trust
 * (`--trusted-root`, else the `SIGSTORE_*` files, else TUF; `--certificate-chain`, `--timestamp-certificate-chain`),
 * `--certificate`, `--insecure-ignore-sct`, `--insecure-ignore-tlog`, `--use-signed-timestamps`.
 */
export async function keylessFromFlags(ctx: CliContext, flags: Flags): Promise<{ identity: IdentityAuthority; keyless: KeylessOptions }> {
  const { identityAuthority } = await import('../../verify/authority.js');
  let identity: IdentityAuthority;
  try {
    identity = identityAuthority({
      subject: flags.str('certificate-identity'),
      subjectRegExp: flags.str('certificate-identity-regexp'),
      issuer: flags.str('certificate-oidc-issuer'),
      issuerRegExp: flags.str('certificate-oidc-issuer-regexp'),
      githubWorkflow: {
        trigger: flags.str('certificate-github-workflow-trigger'),
        sha: flags.str('certificate-github-workflow-sha'),
        name: flags.str('certificate-github-workflow-name'),
        repository: flags.str('certificate-github-workflow-repository'),
        ref: flags.str('certificate-github-workflow-ref'),
      },
    });
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.ERROR, 'USAGE', { cause: e });
  }
  const ignoreTlog = flags.bool('insecure-ignore-tlog') || flags.bool('private-infrastructure');
  if (flags.bool('insecure-ignore-tlog')) {
    warn(ctx, 'Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.');
  }
  const ignoreSct = flags.bool('insecure-ignore-sct');
  const trustMod = await import('../../verify/trust.js');
  const env = ctx.env;
  const set = (name: string): boolean => (env[name] ?? '') !== '';
  let trust: import('../../verify/trust.js').SigstoreTrust | undefined;
  try {
    const trustedRoot = flags.str('trusted-root');
    const chain = flags.str('certificate-chain');
    if (trustedRoot !== '') {
      trust = await trustMod.trustFromTrustedRootFile(trustedRoot);
    } else if (
      (set('SIGSTORE_ROOT_FILE') || chain !== '') &&
      (ignoreTlog || set('SIGSTORE_REKOR_PUBLIC_KEY')) &&
      (ignoreSct || set('SIGSTORE_CT_LOG_PUBLIC_KEY_FILE'))
    ) {
      trust = undefined; // everything comes from the files below: no TUF
    } else {
      trust = await trustMod.publicGoodTrust({
        ...(set('TUF_ROOT') ? { cachePath: env.TUF_ROOT as string } : {}),
        ...(set('TUF_MIRROR') ? { mirrorURL: env.TUF_MIRROR as string } : {}),
        offline: flags.bool('offline'),
      });
    }
    trust = await trustMod.applySigstoreEnv(env, trust);
    const tsaChain = flags.str('timestamp-certificate-chain');
    if (chain !== '' || tsaChain !== '') {
      const read = (f: string, what: string): Promise<string> => readFileLimited(f, trustMod.MAX_TRUST_FILE_BYTES, `${what} ${f}`, 'utf8');
      trust = trustMod.trustFromPems(
        {
          ...(chain === '' ? {} : { fulcioCertificates: await read(chain, '--certificate-chain') }),
          ...(tsaChain === '' ? {} : { tsaCertificates: await read(tsaChain, '--timestamp-certificate-chain') }),
        },
        trust,
        'command-line certificates',
      );
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`loading the trusted root: ${(e as Error).message}`, EXIT.ERROR, isCosignError(e) ? e.code : 'ERROR', { cause: e });
  }
  if (trust === undefined) throw new CliError('no trusted root: pass --trusted-root or set SIGSTORE_ROOT_FILE', EXIT.ERROR, 'TRUST_ROOT_INVALID');
  const certificate = await readCertificateFlag(flags.str('certificate'));
  return {
    identity,
    keyless: { trust, ignoreSct, ignoreTlog, requireTimestamp: flags.bool('use-signed-timestamps'), ...(certificate === undefined ? {} : { certificate }) },
  };
}

/** `--certificate FILE`: the PEM signing certificate (bounded read, parsed once here so a bad file fails before any registry call). */
async function readCertificateFlag(file: string): Promise<string | undefined> {
  if (file === '') return undefined;
  let pem: string;
  try {
    pem = await readFileLimited(file, MAX_KEY_FILE_BYTES, '--certificate', 'utf8');
  } catch (e) {
    if (isCosignError(e)) throw new CliError(e.message, EXIT.ERROR, e.code, { cause: e });
    throw new CliError(`reading --certificate ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, EXIT.ERROR, 'ERROR', { cause: e });
  }
  const { X509Certificate } = await import('node:crypto');
  try {
    new X509Certificate(pem);
  } catch (e) {
    throw new CliError(`--certificate ${file}: not a PEM X.509 certificate`, EXIT.ERROR, 'CERTIFICATE_INVALID', { cause: e });
  }
  return pem;
}

function header(ctx: CliContext, ref: string, checks: readonly string[]): void {
  ctx.stderr.write(`\nVerification for ${ref} --\nThe following checks were performed on each of these signatures:\n${checks.map((c) => `${c}\n`).join('')}`);
}

/** Map a library error of `verifyImage` to cosign's message and exit status. */
function verifyError(e: unknown): never {
  const code = (e as { code?: unknown } | null)?.code;
  const msg = (e as Error).message;
  switch (code) {
    case 'NO_SIGNATURES':
      throw new CliError(msg.startsWith('no signatures found') ? msg : `no signatures found: ${msg}`, EXIT.NO_SIGNATURES, 'NO_SIGNATURES', { cause: e });
    case 'NOT_FOUND':
      throw new CliError(`image tag not found: ${msg}`, EXIT.NOT_FOUND, 'NOT_FOUND', { cause: e });
    case 'NO_MATCHING_SIGNATURES':
      // cosign 3 reports Sigstore bundles that do not verify as attestations, with status 1.
      if ((e as { details?: { format?: unknown } }).details?.format === 'bundle') {
        throw new CliError(`no matching attestations: ${msg}`, EXIT.ERROR, 'NO_MATCHING_SIGNATURES', { cause: e });
      }
      throw new CliError(
        msg.startsWith('no matching signatures') ? msg : `no matching signatures: ${msg}`,
        EXIT.NO_MATCHING_SIGNATURES,
        'NO_MATCHING_SIGNATURES',
        { cause: e },
      );
    case 'BAD_REFERENCE':
      throw new CliError(`parsing reference: ${msg}`, EXIT.ERROR, 'BAD_REFERENCE', { cause: e });
    default:
      throw e;
  }
}

async function parseRef(input: string): Promise<ImageReference> {
  const { parseReference } = await import('../../reference.js');
  try {
    return parseReference(input);
  } catch (e) {
    return verifyError(e);
  }
}

/** Signature value of `--signature`: a file, a URL, or the base64 text itself. */
async function readSignatureArg(ctx: CliContext, value: string): Promise<Buffer> {
  const { decodeBase64Strict } = await import('../../encoding.js');
  let text: string;
  if (/^https?:\/\//i.test(value)) {
    const { readKeyReference } = await import('../../keys/resolve.js');
    text = (await readKeyReference(value, keyOptions(ctx))).toString('utf8');
  } else {
    let isFile = false;
    try {
      isFile = (await stat(value)).isFile();
    } catch {
      isFile = false;
    }
    if (isFile) {
      try {
        text = await readFileLimited(value, MAX_PAYLOAD_FILE_BYTES, 'signature file', 'utf8');
      } catch (e) {
        if (isCosignError(e, 'TOO_LARGE')) throw new CliError(`reading signature: ${e.message}`, EXIT.ERROR, 'TOO_LARGE', { cause: e });
        throw new CliError(`reading signature: open ${value}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, EXIT.ERROR, 'ERROR', { cause: e });
      }
    } else if (/^[A-Za-z0-9+/=\s]+$/.test(value) && value.length >= 16) {
      text = value;
    } else {
      throw new CliError(`reading signature: open ${value}: no such file or directory`);
    }
  }
  try {
    return decodeBase64Strict(text.trim(), '--signature');
  } catch (e) {
    throw new CliError(`decoding signature: ${(e as Error).message}`);
  }
}

async function readPayloadArg(ctx: CliContext, value: string): Promise<Buffer> {
  if (/^https?:\/\//i.test(value)) return (await import('../../keys/resolve.js')).readKeyReference(value, keyOptions(ctx));
  try {
    return await readFileLimited(value, MAX_PAYLOAD_FILE_BYTES, 'payload file');
  } catch (e) {
    if (isCosignError(e, 'TOO_LARGE')) throw new CliError(`reading payload: ${(e as Error).message}`, EXIT.ERROR, 'TOO_LARGE', { cause: e });
    throw new CliError(`reading payload: open ${value}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : 'error'}`);
  }
}

async function runVerify(ctx: CliContext, flags: Flags): Promise<number> {
  // The registry client first, with a hint of the registries it will talk to, so its first round trip
  // overlaps loading the key and the verification code (RegistryClient.preconnect: bounded, never
  // fails). Errors keep their order: the settings are awaited (and their errors reported) below.
  // At most --max-workers images are verified at once, over at most twice as many connections per registry
  // (an image's referrers and .sig lookups run at once).
  const workers = /^\d+$/.test(flags.str('max-workers')) ? Math.max(1, Math.min(Number(flags.str('max-workers')), 256)) : 10;
  const settingsOf = (): Promise<RegistrySettings> => registrySettings(ctx, flags, { maxSockets: 2 * workers });
  let early: Promise<RegistrySettings> | undefined;
  if (flags.str('signature') === '' && !flags.bool('local-image')) {
    early = settingsOf();
    early.then(
      async (s) => {
        const { parseReference } = await import('../../reference.js');
        if (s.signatureRepository !== undefined) s.client.preconnect(s.signatureRepository.registry);
        for (const a of flags.args) {
          try {
            s.client.preconnect(parseReference(a).registry);
          } catch {
            // a bad reference is reported below, in order
          }
        }
      },
      () => undefined,
    );
  }
  const p = await prepare(ctx, flags);
  const { keyAuthority } = await import('../../verify/authority.js');
  const { verificationChecks } = await import('../../verify/image.js');
  const { formatReference, withDigest } = await import('../../reference.js');
  const authorities =
    p.publicKey === undefined
      ? p.identity === undefined
        ? []
        : [p.identity]
      : [keyAuthority(p.publicKey, p.keyRef, p.hash === 'sha256' ? undefined : p.hash)];
  // cosign: a certificate given with --certificate is a verifier like a key ("verified against the specified public key").
  const keyed = p.publicKey !== undefined || p.keyless?.certificate !== undefined;
  const tlogChecked = p.publicKey !== undefined ? p.tlog !== undefined : p.keyless?.ignoreTlog !== true;
  const annotationsOpt = p.annotations === undefined ? {} : { annotations: p.annotations };
  const checks = verificationChecks({ ...annotationsOpt, tlogVerified: tlogChecked, key: keyed, certificate: !keyed });
  const bundleChecks = verificationChecks({ ...annotationsOpt, tlogVerified: true, key: keyed, certificate: !keyed });
  if (flags.bool('local-image')) {
    const { verifyLocalImages } = await import('../local-image.js');
    return verifyLocalImages(ctx, flags.args, {
      authorities,
      annotations: p.annotations,
      tlog: p.tlog,
      text: p.text,
      checks,
      bundleChecks,
      header,
      verifyError,
    });
  }
  const refs: ImageReference[] = [];
  for (const a of flags.args) refs.push(await parseRef(a));

  let reg: RegistrySettings | undefined;
  const registry = async (): Promise<RegistrySettings> => (reg ??= await (early ?? settingsOf()));

  if (flags.str('signature') !== '') {
    return verifyOffline(ctx, flags, p, authorities, checks, refs, registry);
  }
  if (flags.str('payload') !== '') throw new CliError('--payload needs --signature', EXIT.ERROR, 'USAGE');

  const settings = await registry();
  const { verifyImages } = await import('../../verify/image.js');
  const { verifyOutputJson } = await import('../../payload/payload.js');
  const bar = progressBar(ctx, 'Verifying');
  let results;
  try {
    results = await verifyImages(refs, {
      client: settings.client,
      authorities,
      ...(p.annotations === undefined ? {} : { annotations: p.annotations }),
      ...(settings.signatureRepository === undefined ? {} : { signatureRepository: settings.signatureRepository }),
      ...(p.tlog === undefined ? {} : { tlog: p.tlog }),
      ...(p.keyless === undefined ? {} : { keyless: p.keyless }),
      batchConcurrency: workers,
      onProgress: (done, total) => bar.update(done, total),
      signal: ctx.signal,
    });
  } finally {
    bar.finish();
  }
  // Print in argument order and stop at the first failure, like cosign (which verifies one by one).
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    const ref = refs[i] as ImageReference;
    if (r === undefined) continue;
    if (!r.ok) verifyError(r.error);
    if (r.result.format === 'bundle') {
      // cosign 3 names the image as go-containerregistry does (a tag next to a digest dropped) and lists
      // the tlog check for Sigstore bundles even with --insecure-ignore-tlog.
      const named = ref.digest === undefined ? ref : withDigest(ref, ref.digest);
      header(ctx, formatReference(named), p.tlog === undefined ? bundleChecks : checks);
    } else {
      header(ctx, formatReference(ref), checks);
    }
    if (p.text) {
      for (const s of r.result.signatures) {
        // For a bundle cosign 3 prints the verified claims (one compact JSON object), not the bundle.
        const text = s.format === 'bundle' ? Buffer.from(verifyOutputJson([s.payload])).subarray(2, -2) : Buffer.from(s.layer.payload);
        out(ctx, Buffer.concat([text, Buffer.from('\n')]));
      }
    } else {
      out(ctx, r.result.output);
    }
  }
  return 0;
}

async function verifyOffline(
  ctx: CliContext,
  flags: Flags,
  p: Prepared,
  authorities: Parameters<typeof import('../../verify/layer.js').verifyLayer>[1],
  checks: readonly string[],
  refs: readonly ImageReference[],
  registry: () => Promise<RegistrySettings>,
): Promise<number> {
  const signature = await readSignatureArg(ctx, flags.str('signature'));
  const payloadArg = flags.str('payload');
  const explicitPayload = payloadArg === '' ? undefined : await readPayloadArg(ctx, payloadArg);
  const { buildSignatureLayer } = await import('../../artifact/layer.js');
  const { verifyLayer } = await import('../../verify/layer.js');
  const { verifyOutputJson, buildPayload } = await import('../../payload/payload.js');
  const { formatReference, withDigest } = await import('../../reference.js');
  for (const ref of refs) {
    let digest = ref.digest;
    if (digest === undefined) {
      const { resolveDigest } = await import('../../verify/image.js');
      try {
        digest = await resolveDigest((await registry()).client, ref, ctx.signal);
      } catch (e) {
        verifyError(e);
      }
    }
    let payload = explicitPayload;
    if (payload === undefined) {
      warn(
        ctx,
        `using obsolete implied signature payload data (with digested reference ${formatReference(withDigest(ref, digest))}); specify it explicitly with --payload instead`,
      );
      payload = Buffer.from(buildPayload({ dockerReference: ref.name, digest }));
    }
    const layer = buildSignatureLayer({ payload, signature });
    const r = verifyLayer(layer, authorities, {
      digest,
      ...(p.annotations === undefined ? {} : { annotations: p.annotations }),
      ...(p.tlog === undefined ? {} : { tlog: p.tlog }),
    });
    if (!r.ok) throw new CliError(`no matching signatures: ${r.reason}`, EXIT.NO_MATCHING_SIGNATURES, 'NO_MATCHING_SIGNATURES');
    header(ctx, formatReference(ref), checks);
    if (p.text) out(ctx, Buffer.concat([payload, Buffer.from('\n')]));
    else out(ctx, verifyOutputJson([r.signature.payload]));
  }
  return 0;
}
