/**
 * `cosign-ts verify-attestation --key REF --type TYPE --insecure-ignore-tlog=true IMAGE…`: verify an
 * image's attestations like cosign 3.1 `verify-attestation`: Sigstore bundles attached as OCI 1.1
 * referrers first, else the legacy `.att` tag; one DSSE envelope JSON per line on stdout, cosign's
 * check list on stderr, cosign's messages and exit status (1) on failure. CUE/Rego `--policy` is
 * refused.
 *
 * @module
 */
import type { Command } from '../command.js';
import { KEYLESS_FLAGS, REGISTRY_FLAGS } from '../command.js';
import type { CliContext } from '../context.js';
import { out, warn } from '../context.js';
import { CliError, EXIT, unsupported } from '../errors.js';
import type { Flags } from '../flags.js';
import { keyOptions } from '../keyref.js';
import { registrySettings } from '../registry.js';
import type { VerifiedAttestation, VerifyAttestationsOptions, VerifyAttestationsResult } from '../../verify/attestation.js';

export const command: Command = {
  name: 'verify-attestation',
  short: 'Verify an attestation on the supplied container image',
  long: `Verify an attestation on an image by checking the claims
against the transparency log.

cosign-ts verifies with a public key (file, env://, URL, KMS URI or Kubernetes secret), without
the transparency log (--insecure-ignore-tlog=true is required), or keyless (no --key) with the
certificate identity flags and a trusted root, as cosign-ts verify does (offline). Like cosign 3, the Sigstore
bundles attached to the image as OCI 1.1 referrers are read first (cosign 3's format), and the
legacy sha256-<digest>.att attestations only when there are none. Only attestations of the
--type predicate type are printed (default custom), one DSSE envelope JSON per line.
CUE and Rego policies (--policy) are not supported: check the printed predicates instead.`,
  usage: '[flags] <image uri> [<image uri> ...]',
  examples: `  cosign-ts verify-attestation --key <key path>|<key url>|<kms uri> --insecure-ignore-tlog=true [--type <type>] <image uri> [<image uri> ...]
  cosign-ts verify-attestation --certificate-identity <identity> --certificate-oidc-issuer <issuer> [--trusted-root <file>] [--type <type>] <image uri> [<image uri> ...]

  # verify an attestation signed keyless by a GitHub Actions workflow
  cosign-ts verify-attestation --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main --certificate-oidc-issuer https://token.actions.githubusercontent.com --type slsaprovenance1 <IMAGE>

  # verify the SLSA provenance attestation of an image with an on-disk public key
  cosign-ts verify-attestation --key cosign.pub --insecure-ignore-tlog=true --type slsaprovenance1 <IMAGE>

  # verify an attestation of a custom predicate type
  cosign-ts verify-attestation --key cosign.pub --insecure-ignore-tlog=true --type https://example.com/my-type/v1 <IMAGE>

  # print the predicate of the verified OpenVEX attestations
  cosign-ts verify-attestation --key cosign.pub --insecure-ignore-tlog=true --type openvex <IMAGE> | jq -r .payload | base64 -d | jq .predicate`,
  notes: `--type: custom (default), slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson,
cyclonedx, vuln, openvex, link, or a predicate type URI.

Environment:
  COSIGN_REPOSITORY          read attestations from this repository (registry/repo)

Exit status (as cosign 3.1): 0 verified, 1 anything else.`,
  flags: [
    { name: 'key', type: 'string', default: '', help: 'path to the public key file, KMS URI or Kubernetes Secret' },
    {
      name: 'type',
      type: 'string',
      default: 'custom',
      help: 'specify a predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or an URI',
    },
    {
      name: 'insecure-ignore-tlog',
      type: 'boolean',
      default: false,
      help: 'ignore transparency log verification, to be used when an artifact signature has not been uploaded to the transparency log. Artifacts cannot be publicly verified when not included in a log',
    },
    { name: 'policy', type: 'stringArray', help: 'specify CUE or Rego files with policies to be used for validation (not supported)' },
    { name: 'output', short: 'o', type: 'string', default: 'json', help: 'output format for the signing image information (json|text)' },
    { name: 'check-claims', type: 'boolean', default: true, help: 'whether to check the claims found (cosign-ts: always true)' },
    { name: 'max-workers', type: 'string', default: '10', help: 'the amount of maximum workers for parallel executions (unused)' },
    { name: 'new-bundle-format', type: 'boolean', default: false, help: 'expect attestations in Sigstore bundles (cosign-ts reads both formats always)' },
    { name: 'trusted-root', type: 'string', default: '', help: 'path to a Sigstore TrustedRoot JSON file (keyless; unused with --key)' },
    {
      name: 'local-image',
      type: 'boolean',
      default: false,
      help: "whether the specified image is a path to an image saved locally via 'cosign save' (not supported yet)",
    },
    { name: 'experimental-oci11', type: 'boolean', default: false, help: 'set to true to enable experimental OCI 1.1 behaviour (not supported yet)' },
    { name: 'offline', type: 'boolean', default: false, help: 'only allow offline verification (cosign-ts never queries Rekor online)' },
    { name: 'private-infrastructure', type: 'boolean', default: false, help: 'skip transparency log verification (as --insecure-ignore-tlog)' },
    { name: 'rekor-url', type: 'string', default: 'https://rekor.sigstore.dev', help: 'address of rekor STL server (unused)' },
    { name: 'use-signed-timestamps', type: 'boolean', default: false, help: 'verify rfc3161 timestamps (not supported yet)' },
    { name: 'timestamp-certificate-chain', type: 'string', default: '', help: 'PEM certificate chain of the timestamp authority (not supported yet)' },
    {
      name: 'insecure-ignore-sct',
      type: 'boolean',
      default: false,
      help: 'when set, verification will not check that a certificate contains an embedded SCT, a proof of inclusion in a certificate transparency log',
    },
    { name: 'certificate-identity', type: 'string', default: '', help: 'the identity expected in a valid Fulcio certificate (keyless)' },
    { name: 'certificate-identity-regexp', type: 'string', default: '', help: 'a regular expression alternative to --certificate-identity (keyless)' },
    { name: 'certificate-oidc-issuer', type: 'string', default: '', help: 'the OIDC issuer expected in a valid Fulcio certificate (keyless)' },
    { name: 'certificate-oidc-issuer-regexp', type: 'string', default: '', help: 'a regular expression alternative to --certificate-oidc-issuer (keyless)' },
    { name: 'certificate', type: 'string', default: '', help: 'path to the public certificate (keyless: used instead of the one the attestation carries)' },
    { name: 'certificate-chain', type: 'string', default: '', help: 'path to a list of CA certificates in PEM format, trusted for keyless verification' },
    { name: 'ca-roots', type: 'string', default: '', help: 'path to a bundle file of CA certificates in PEM format (not supported yet)' },
    { name: 'ca-intermediates', type: 'string', default: '', help: 'path to a file of intermediate CA certificates in PEM format (not supported yet)' },
    { name: 'certificate-github-workflow-name', type: 'string', default: '', help: 'the GitHub workflow name expected in the certificate (keyless)' },
    { name: 'certificate-github-workflow-ref', type: 'string', default: '', help: 'the GitHub workflow ref expected in the certificate (keyless)' },
    {
      name: 'certificate-github-workflow-repository',
      type: 'string',
      default: '',
      help: 'the GitHub workflow repository expected in the certificate (keyless)',
    },
    { name: 'certificate-github-workflow-sha', type: 'string', default: '', help: 'the GitHub workflow commit SHA expected in the certificate (keyless)' },
    { name: 'certificate-github-workflow-trigger', type: 'string', default: '', help: 'the GitHub workflow trigger expected in the certificate (keyless)' },
    { name: 'sct', type: 'string', default: '', help: 'keyless only (not supported yet)' },
    { name: 'sk', type: 'boolean', default: false, help: 'whether to use a hardware security key (not supported yet)' },
    { name: 'slot', type: 'string', default: '', help: 'security key slot (not supported yet)' },
    ...REGISTRY_FLAGS,
  ],
  args: { min: 1, max: Infinity },
  run: runVerifyAttestation,
};

/**
 * The check list cosign prints on stderr; with a key, bundles list the tlog line even with
 * --insecure-ignore-tlog (as cosign 3.1). Keyless, the certificate check; for a legacy `.att` (as
 * cosign 2.5) then the certificate's subject, issuer and GitHub workflow fields (a bundle's stay in
 * the bundle, as cosign 3.1).
 */
function header(ctx: CliContext, ref: string, bundle: boolean, first: VerifiedAttestation | undefined): void {
  const cert = first?.certificate;
  let text = `\nVerification for ${ref} --\nThe following checks were performed on each of these signatures:\n  - The cosign claims were validated\n`;
  if (cert === undefined) {
    text += `${bundle ? '  - Existence of the claims in the transparency log was verified offline\n' : ''}  - The signatures were verified against the specified public key\n`;
    ctx.stderr.write(text);
    return;
  }
  if (first?.tlogVerified === true) text += '  - Existence of the claims in the transparency log was verified offline\n';
  text += '  - The code-signing certificate was verified using trusted certificate authority certificates\n';
  if (!bundle) {
    // untrusted certificate values: escaped (control characters cannot reach the terminal)
    const esc = (v: string): string => JSON.stringify(v).slice(1, -1);
    text += `Certificate subject: ${esc(cert.subject ?? '')}\n`;
    if (cert.issuer !== undefined && cert.issuer !== '') text += `Certificate issuer URL: ${esc(cert.issuer)}\n`;
    const names = { trigger: 'Trigger', sha: 'SHA', name: 'Name', repository: 'Repository', ref: 'Ref' } as const;
    for (const k of ['trigger', 'sha', 'name', 'repository', 'ref'] as const) {
      const v = cert.githubWorkflow[k];
      if (v !== undefined && v !== '') text += `GitHub Workflow ${names[k]}: ${esc(v)}\n`;
    }
  }
  ctx.stderr.write(text);
}

/** cosign 3.1's wording for a rejected attestation. */
function cosignReason(r: VerifyAttestationsResult['rejected'][number]): string {
  if (r.code === 'SIGNATURE_INVALID') {
    const threshold = 'accepted signatures do not match threshold, Found: 0, Expected 1';
    return r.format === 'bundle' ? `failed to verify signature: could not verify envelope: ${threshold}` : threshold;
  }
  return r.reason;
}

/** The CLI's verdict on a library result: nothing when it verified, else cosign's error. */
export function attestationFailure(result: VerifyAttestationsResult, typeFlag: string): CliError | undefined {
  if (result.ok) return undefined;
  const found = result.rejected.filter((r) => r.code === 'TYPE_MISMATCH' && r.predicateType !== undefined).map((r) => r.predicateType as string);
  if (found.length > 0) {
    return new CliError(`none of the attestations matched the predicate type: ${typeFlag}, found: ${found.join(',')}`, EXIT.ERROR, 'TYPE_MISMATCH');
  }
  if (result.rejected.length === 0) return new CliError('no matching attestations: ', EXIT.ERROR, 'NO_SIGNATURES');
  // cosign 3 joins the errors of every bundle with newlines, the legacy path with a newline and a space.
  const reasons = result.rejected.map(cosignReason).join(result.format === 'bundle' ? '\n' : '\n ');
  return new CliError(`no matching attestations: ${reasons}`, EXIT.ERROR, 'NO_MATCHING_SIGNATURES');
}

async function runVerifyAttestation(ctx: CliContext, flags: Flags): Promise<number> {
  if (flags.list('policy').length > 0) {
    throw new CliError(
      'CUE and Rego policies (--policy) are not supported by cosign-ts: verify without --policy and check the predicates printed on stdout (or use the library hook checkPredicate of verifyAttestations)',
      EXIT.ERROR,
      'UNSUPPORTED',
    );
  }
  if (flags.bool('local-image')) throw unsupported('verifying images saved with cosign save (--local-image)');
  if (flags.bool('experimental-oci11')) throw unsupported('--experimental-oci11');
  if (flags.bool('use-signed-timestamps') || flags.str('timestamp-certificate-chain') !== '') throw unsupported('RFC 3161 timestamp verification');
  if (flags.bool('sk') || flags.str('slot') !== '') throw unsupported('hardware security keys (--sk)');
  if (flags.str('attachment-tag-prefix') !== '') throw unsupported('--attachment-tag-prefix with verify-attestation');
  if (!flags.bool('check-claims')) throw unsupported('skipping the claim checks (--check-claims=false)');
  const output = flags.str('output');
  if (output !== 'json' && output !== 'text') throw new CliError(`invalid output format ${JSON.stringify(output)}: expected json or text`, EXIT.ERROR, 'USAGE');
  const keyless = KEYLESS_FLAGS.filter((f) => flags.str(f) !== '');
  const keyRef = flags.str('key');
  if (keyRef !== '' && keyless.length > 0) throw new CliError(`--key and --${keyless[0]} cannot be used together`, EXIT.ERROR, 'USAGE');
  if (keyRef === '') {
    for (const f of ['ca-roots', 'ca-intermediates', 'sct']) {
      if (flags.str(f) !== '') throw unsupported(`--${f} in keyless mode`);
    }
  } else if (!flags.bool('insecure-ignore-tlog') && !flags.bool('private-infrastructure')) {
    throw new CliError(
      'transparency-log verification of attestations is not supported by cosign-ts yet: pass --insecure-ignore-tlog=true for attestations made with --tlog-upload=false',
      EXIT.ERROR,
      'UNSUPPORTED',
    );
  }
  const typeFlag = flags.str('type');
  const { predicateType } = await import('../../sign/attestation.js');
  try {
    predicateType(typeFlag);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.ERROR, 'USAGE', { cause: e });
  }
  if (keyRef !== '' && flags.bool('insecure-ignore-tlog')) {
    warn(ctx, 'Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the attestation.');
  }
  const { parseReference, formatReference } = await import('../../reference.js');
  const refs = flags.args.map((a) => {
    try {
      return parseReference(a);
    } catch (e) {
      throw new CliError(`parsing reference: ${(e as Error).message}`, EXIT.ERROR, 'BAD_REFERENCE', { cause: e });
    }
  });
  let how: Pick<VerifyAttestationsOptions, 'verifier' | 'identities' | 'keyless'>;
  if (keyRef === '') {
    const { keylessFromFlags } = await import('./verify.js');
    const { identity, keyless: options } = await keylessFromFlags(ctx, flags);
    how = { identities: [identity], keyless: options };
  } else {
    const { resolvePublicKey } = await import('../../kms/registry.js');
    const { PublicKeyVerifier } = await import('../../keys/verify.js');
    const publicKey = await resolvePublicKey(keyRef, keyOptions(ctx));
    how = { verifier: new PublicKeyVerifier(publicKey, keyRef) };
  }
  const reg = await registrySettings(ctx, flags);
  const { verifyAttestations } = await import('../../verify/attestation.js');
  for (const ref of refs) {
    const result = await verifyAttestations(ref, {
      client: reg.client,
      ...how,
      type: typeFlag,
      ...(reg.signatureRepository === undefined ? {} : { signatureRepository: reg.signatureRepository }),
      signal: ctx.signal,
    });
    const failure = attestationFailure(result, typeFlag);
    if (failure !== undefined) throw failure;
    header(ctx, formatReference(ref), result.format === 'bundle', result.verified[0]);
    for (const v of result.verified) out(ctx, Buffer.concat([v.envelope, Buffer.from('\n')]));
  }
  return 0;
}
