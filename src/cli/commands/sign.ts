/**
 * `cosign-ts sign [--key REF] IMAGE…`: sign images like `cosign sign`, with a key or keyless (Fulcio), in the
 * legacy `.sig` format or as a cosign 3 bundle, recorded in Rekor and/or a timestamp authority.
 *
 * @module
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from '../command.js';
import { OUTPUT_FLAG, REGISTRY_FLAGS } from '../command.js';
import { info, out, warn } from '../context.js';
import { parseAnnotations } from '../annotations.js';
import { CliError, unsupported } from '../errors.js';
import type { Flags } from '../flags.js';
import { loadSigner } from '../keyref.js';
import { progressBar } from '../progress.js';
import { registrySettings } from '../registry.js';

/** Flags of cosign sign that select features cosign-ts does not have yet. */
const UNSUPPORTED_STRINGS: ReadonlyArray<[string, string]> = [
  ['payload', 'signing a given payload file (--payload)'],
  ['certificate', 'attaching a certificate (--certificate)'],
  ['certificate-chain', 'attaching a certificate chain (--certificate-chain)'],
  ['sign-container-identity', '--sign-container-identity'],
  ['attachment', 'signing attachments (--attachment)'],
  ['registry-referrers-mode', 'storing signatures as OCI 1.1 referrers (--registry-referrers-mode)'],
];

/** Flags of cosign's interactive (browser) OIDC flow: accepted and unused, the token comes from the CI or --identity-token. */
const KEYLESS_IGNORED = ['oidc-issuer', 'oidc-client-id', 'oidc-client-secret-file', 'oidc-redirect-url', 'oidc-provider'];

export const command: Command = {
  name: 'sign',
  short: 'Sign the supplied container image.',
  long: `Sign the supplied container image.

Make sure to sign the image by its digest (@sha256:...) rather than by tag
(:latest) so that you actually sign what you think you're signing! This prevents
race conditions or (worse) malicious tampering.

cosign-ts signs with a key (file, env://, KMS URI or Kubernetes secret), or keyless:
without --key (or with --issue-certificate) it gets a short-lived Fulcio certificate
for an ephemeral key (or the --key key) bound to the OIDC identity token from
--identity-token, SIGSTORE_ID_TOKEN or GitHub Actions. Like cosign, it records each
signature in the transparency log (--rekor-url; --tlog-upload=false to skip) and,
with --timestamp-server-url, gets an RFC 3161 timestamp. There is no interactive
browser login.`,
  usage: '[flags] <image uri> [<image uri> ...]',
  examples: `  cosign-ts sign --key <key path>|<kms uri> --tlog-upload=false [-a key=value] [--upload=true|false] [-r] <image digest uri>

  # sign a container image with a local key pair file
  cosign-ts sign --key cosign.key --tlog-upload=false <IMAGE DIGEST>

  # sign a multi-arch container image AND all referenced, discrete images
  cosign-ts sign --key cosign.key --tlog-upload=false --recursive <MULTI-ARCH IMAGE DIGEST>

  # sign a container image and add annotations
  cosign-ts sign --key cosign.key --tlog-upload=false -a key1=value1 -a key2=value2 <IMAGE DIGEST>

  # sign a container image with a key stored in an environment variable
  cosign-ts sign --key env://[ENV_VAR] --tlog-upload=false <IMAGE DIGEST>

  # sign a container image with a key pair stored in AWS KMS, Google Cloud KMS, Azure Key Vault, Vault
  cosign-ts sign --key awskms://[ENDPOINT]/[ID/ALIAS/ARN] --tlog-upload=false <IMAGE DIGEST>
  cosign-ts sign --key gcpkms://projects/[PROJECT]/locations/global/keyRings/[KEYRING]/cryptoKeys/[KEY]/versions/[VERSION] --tlog-upload=false <IMAGE DIGEST>
  cosign-ts sign --key azurekms://[VAULT_NAME][VAULT_URI]/[KEY] --tlog-upload=false <IMAGE DIGEST>
  cosign-ts sign --key hashivault://[KEY] --tlog-upload=false <IMAGE DIGEST>

  # sign a container image with a key pair stored in a Kubernetes secret
  cosign-ts sign --key k8s://[NAMESPACE]/[KEY] --tlog-upload=false <IMAGE DIGEST>

  # sign a container in a registry which does not fully support OCI media types
  COSIGN_DOCKER_MEDIA_TYPES=1 cosign-ts sign --key cosign.key --tlog-upload=false legacy-registry.example.com/my/image@<DIGEST>

  # store signatures in another repository
  COSIGN_REPOSITORY=registry.example.com/signatures cosign-ts sign --key cosign.key --tlog-upload=false <IMAGE DIGEST>

  # sign without uploading, writing the signature and payload to files
  cosign-ts sign --key cosign.key --tlog-upload=false --upload=false --output-signature sig.b64 --output-payload payload.json <IMAGE DIGEST>`,
  notes: `Environment:
  COSIGN_PASSWORD            password of an encrypted key file (else prompt on a terminal, else stdin)
  COSIGN_REPOSITORY          store signatures in this repository (registry/repo)
  COSIGN_DOCKER_MEDIA_TYPES  write the signature manifest with Docker v2 media types`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the private key file, KMS URI or Kubernetes Secret' },
    { name: 'annotations', short: 'a', type: 'stringSlice', help: 'extra key=value pairs to sign' },
    { name: 'tlog-upload', type: 'boolean', default: true, help: 'whether or not to upload to the tlog' },
    {
      name: 'new-bundle-format',
      type: 'boolean',
      default: false,
      help: 'store the signature as a Sigstore bundle in an OCI 1.1 referrer, as cosign 3 (default: the legacy .sig tag)',
    },
    {
      name: 'use-signing-config',
      type: 'boolean',
      default: false,
      help: "use the public-good instance's signing config from TUF (cosign-ts: not supported, pass --signing-config FILE)",
    },
    { name: 'signing-config', type: 'string', default: '', help: 'path to a signing config file: the Fulcio, Rekor and timestamp authority to use' },
    { name: 'yes', short: 'y', type: 'boolean', default: false, help: 'skip confirmation prompts for non-destructive operations' },
    { name: 'recursive', short: 'r', type: 'boolean', default: false, help: 'if a multi-arch image is specified, additionally sign each discrete image' },
    { name: 'upload', type: 'boolean', default: true, help: 'whether to upload the signature' },
    { name: 'output-signature', type: 'string', default: '', help: 'write the signature to FILE' },
    { name: 'output-payload', type: 'string', default: '', help: 'write the signed payload to FILE' },
    { name: 'output-certificate', type: 'string', default: '', help: 'write the certificate to FILE (keyless)' },
    { name: 'payload', type: 'string', default: '', help: 'path to a payload file to use rather than generating one (not supported yet)' },
    {
      name: 'certificate',
      type: 'string',
      default: '',
      help: 'path to the X.509 certificate in PEM format to include in the OCI Signature (not supported yet)',
    },
    { name: 'certificate-chain', type: 'string', default: '', help: 'path to a list of CA X.509 certificates in PEM format (not supported yet)' },
    { name: 'sign-container-identity', type: 'string', default: '', help: 'manually set the .critical.docker-reference field (not supported yet)' },
    { name: 'record-creation-timestamp', type: 'boolean', default: false, help: 'set the createdAt timestamp in the signature artifact (not supported yet)' },
    { name: 'attachment', type: 'string', default: '', help: 'DEPRECATED, related image attachment to sign (not supported)' },
    {
      name: 'registry-referrers-mode',
      type: 'string',
      default: '',
      help: 'mode for fetching references from the registry: legacy (default) or oci-1-1 (not supported yet)',
    },
    { name: 'rekor-url', type: 'string', default: 'https://rekor.sigstore.dev', help: 'address of rekor STL server' },
    { name: 'fulcio-url', type: 'string', default: 'https://fulcio.sigstore.dev', help: 'address of sigstore PKI server' },
    {
      name: 'identity-token',
      type: 'string',
      default: '',
      help: 'identity token to use for certificate from fulcio. the token or a path to a file containing the token is accepted.',
    },
    { name: 'oidc-issuer', type: 'string', default: 'https://oauth2.sigstore.dev/auth', help: 'OIDC provider (interactive flow: unused by cosign-ts)' },
    { name: 'oidc-client-id', type: 'string', default: 'sigstore', help: 'OIDC client ID (interactive flow: unused by cosign-ts)' },
    { name: 'oidc-client-secret-file', type: 'string', default: '', help: 'OIDC client secret file (interactive flow: unused by cosign-ts)' },
    { name: 'oidc-redirect-url', type: 'string', default: '', help: 'OIDC redirect URL (interactive flow: unused by cosign-ts)' },
    { name: 'oidc-provider', type: 'string', default: '', help: 'OIDC provider (interactive flow: unused by cosign-ts)' },
    { name: 'timestamp-server-url', type: 'string', default: '', help: 'url to the Timestamp RFC3161 server, default none' },
    { name: 'sk', type: 'boolean', default: false, help: 'whether to use a hardware security key (not supported yet)' },
    { name: 'slot', type: 'string', default: '', help: 'security key slot (not supported yet)' },
    { name: 'issue-certificate', type: 'boolean', default: false, help: 'issue a code signing certificate from Fulcio, even if a key is provided' },
    ...REGISTRY_FLAGS,
    OUTPUT_FLAG,
  ],
  args: { min: 1, max: Infinity },
  run: runSign,
};

function checkFlags(flags: Flags): void {
  for (const [name, what] of UNSUPPORTED_STRINGS) if (flags.str(name) !== '') throw unsupported(what);
  if (flags.bool('record-creation-timestamp')) throw unsupported('--record-creation-timestamp');
  if (flags.str('attachment-tag-prefix') !== '') throw unsupported('--attachment-tag-prefix with sign');
  if (flags.bool('sk')) throw unsupported('hardware security keys (--sk)');
  if (flags.bool('use-signing-config') && flags.str('signing-config') === '') {
    throw unsupported('--use-signing-config (the signing config from TUF): pass --signing-config FILE, or --use-signing-config=false');
  }
  if (flags.str('signing-config') !== '') {
    for (const f of ['fulcio-url', 'rekor-url', 'timestamp-server-url']) {
      if (flags.has(f)) throw new CliError(`--${f} and --signing-config cannot be used together`, 1, 'USAGE');
    }
  }
  if (flags.bool('new-bundle-format') && !flags.bool('upload')) throw unsupported('--upload=false with --new-bundle-format');
  void KEYLESS_IGNORED;
}

const TAG_WARNING = (ref: string): string =>
  `Image reference ${ref} uses a tag, not a digest, to identify the image to sign.
    This can lead you to sign a different image than the intended one. Please use a
    digest (example.com/ubuntu@sha256:abc123...) rather than tag
    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to
    images by tag will be removed in a future release.
`;

async function runSign(ctx: Parameters<Command['run']>[0], flags: Flags): Promise<number> {
  checkFlags(flags);
  const json = flags.str('output') === 'json';
  const refsIn = flags.args;
  const annotations = (() => {
    try {
      return parseAnnotations(flags.list('annotations'));
    } catch (e) {
      throw new CliError(`signing [${refsIn.join(' ')}]: getting annotations: ${(e as Error).message}`);
    }
  })();
  const outSig = flags.str('output-signature');
  const outPayload = flags.str('output-payload');
  const { parseReference, formatReference } = await import('../../reference.js');
  const refs = refsIn.map((r) => {
    try {
      return parseReference(r);
    } catch (e) {
      throw new CliError(`parsing reference: ${(e as Error).message}`, 1, 'BAD_REFERENCE');
    }
  });
  if ((outSig !== '' || outPayload !== '') && (refs.length > 1 || flags.bool('recursive'))) {
    throw unsupported('--output-signature/--output-payload with several images or --recursive');
  }
  const bundleFormat = flags.bool('new-bundle-format');
  if (bundleFormat) {
    // cosign 3.1 prints these (Cobra's deprecation notices, then its progress line) for the same command.
    if (flags.has('tlog-upload')) info(ctx, 'Flag --tlog-upload has been deprecated, prefer using a --signing-config file with no transparency log services');
    info(ctx, 'Flag --new-bundle-format has been deprecated, this will be the only supported format in future versions');
  }
  const signingConfigFile = flags.str('signing-config');
  let services: import('../../sign/signing-config.js').SelectedServices | undefined;
  if (signingConfigFile !== '') {
    const { parseSigningConfig, MAX_SIGNING_CONFIG_BYTES } = await import('../../sign/signing-config.js');
    const { readFileLimited } = await import('../../internal/read-file.js');
    services = parseSigningConfig(await readFileLimited(signingConfigFile, MAX_SIGNING_CONFIG_BYTES, 'signing config'));
  }
  const keyRef = flags.str('key');
  const keySigner = keyRef === '' ? undefined : await loadSigner(ctx, keyRef);
  const keyless = keySigner === undefined || flags.bool('issue-certificate');
  if (keyless && services !== undefined && services.fulcioURL === undefined) {
    throw new CliError('the signing config names no certificate authority: keyless signing needs one (or pass --key)', 1, 'USAGE');
  }
  const token = flags.str('identity-token');
  const signer =
    keySigner !== undefined && !keyless
      ? keySigner
      : (await import('../../sign/keyless.js')).fulcioSigner({
          fulcioURL: services?.fulcioURL ?? flags.str('fulcio-url'),
          ...(token === '' ? {} : { identityToken: token }),
          ...(keySigner === undefined ? {} : { keyHolder: keySigner }),
        });
  const tsaURL = services === undefined ? flags.str('timestamp-server-url') : (services.witness.tsaURL ?? '');
  const rekor = services === undefined ? { rekorURL: flags.str('rekor-url') } : services.witness.rekorURL === undefined ? undefined : services.witness;
  const witness = {
    ...(flags.bool('tlog-upload') && rekor?.rekorURL !== undefined
      ? { rekorURL: rekor.rekorURL, ...(rekor.rekorVersion === undefined ? {} : { rekorVersion: rekor.rekorVersion }) }
      : {}),
    ...(tsaURL === '' ? {} : { tsaURL }),
  };
  const outCert = flags.str('output-certificate');
  const reg = await registrySettings(ctx, flags);
  const { encodeBase64 } = await import('../../encoding.js');
  const results: Array<{ image: string; digest: string; signatureReference: string | null; appended: boolean }> = [];
  const writeOutputs = async (payload: Uint8Array, signature: Uint8Array): Promise<void> => {
    if (outSig !== '') await writeFile(outSig, encodeBase64(signature), { mode: 0o600 });
    if (outPayload !== '') await writeFile(outPayload, payload, { mode: 0o600 });
    const cert = await signer.certificate?.();
    if (outCert !== '' && cert !== undefined) await writeFile(outCert, cert.certificate, { mode: 0o600 });
  };

  for (const ref of refs) {
    if (ref.digest === undefined) warn(ctx, TAG_WARNING(formatReference(ref)));
    if (!flags.bool('upload')) {
      const { resolveDigest } = await import('../../verify/image.js');
      const { buildPayload } = await import('../../payload/payload.js');
      const digest = await resolveDigest(reg.client, ref, ctx.signal);
      const payload = buildPayload({ dockerReference: ref.name, digest, ...(annotations === undefined ? {} : { annotations }) });
      const signature = await signer.sign(payload);
      await writeOutputs(payload, signature);
      results.push({ image: formatReference(ref), digest, signatureReference: null, appended: false });
      continue;
    }
    const { signImage } = await import('../../sign/image.js');
    const bar = progressBar(ctx, 'Signing');
    let result;
    try {
      result = await signImage(ref, signer, {
        client: reg.client,
        ...(annotations === undefined ? {} : { annotations }),
        ...(reg.signatureRepository === undefined ? {} : { signatureRepository: reg.signatureRepository }),
        recursive: flags.bool('recursive'),
        dockerMediaTypes: reg.dockerMediaTypes,
        ...(bundleFormat ? { format: 'bundle' as const } : {}),
        ...(witness.rekorURL === undefined && witness.tsaURL === undefined ? {} : { witness }),
        onWarning: (m) => {
          // the tag warning is printed above in cosign's words
          if (!/uses a tag, not a digest/.test(m)) {
            bar.clear();
            warn(ctx, m);
          }
        },
        onProgress: (done, total) => bar.update(done, total),
        signal: ctx.signal,
      });
    } finally {
      bar.finish();
    }
    for (const s of result.signed) {
      if (bundleFormat) info(ctx, 'Signing artifact...');
      if (s.tlogIndex !== undefined) info(ctx, `tlog entry created with index: ${s.tlogIndex}`);
      info(ctx, `Pushing signature to: ${s.signatureReference.name}`);
      results.push({ image: formatReference(ref), digest: s.digest, signatureReference: formatReference(s.signatureReference), appended: s.appended });
    }
    const first = result.signed[0];
    if (first !== undefined) await writeOutputs(first.payload, first.signature);
  }
  if (json) out(ctx, `${JSON.stringify({ signed: results })}\n`);
  return 0;
}
