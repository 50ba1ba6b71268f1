/**
 * `cosign-ts verify --local-image DIR…`: verify images saved with `save` (or `cosign save`) in OCI image
 * layouts on disk, with no network: the layout is the {@link RegistryReader} the usual verification
 * reads from (`verifyImage`), so the checks are the registry's, byte for byte.
 *
 * @module
 */
import type { Authority } from '../verify/authority.js';
import type { TlogOptions } from '../verify/layer.js';
import type { CliContext } from './context.js';
import { out } from './context.js';
import { CliError, EXIT } from './errors.js';

/** The placeholder name of a saved image (a layout ignores registry and repository). */
const LOCAL_NAME = 'oci-layout.local/image';

/** What `verify` prepared, for {@link verifyLocalImages}. */
export interface LocalVerifySettings {
  readonly authorities: ReadonlyArray<Authority>;
  readonly annotations: Readonly<Record<string, string>> | undefined;
  readonly tlog: TlogOptions | undefined;
  /** `-o text`. */
  readonly text: boolean;
  /** The check list printed for legacy signatures. */
  readonly checks: readonly string[];
  /** The check list printed for Sigstore bundles (cosign 3 lists the tlog check for them). */
  readonly bundleChecks: readonly string[];
  /** Print the header `Verification for DIR --` and the checks. */
  readonly header: (ctx: CliContext, name: string, checks: readonly string[]) => void;
  /** Map a verification error to cosign's message and exit status. */
  readonly verifyError: (e: unknown) => never;
}

/**
 * Verify each layout in `dirs` in order, printing as `cosign verify --local-image` does, and stop at the
 * first failure. Signatures are read as `cosign verify` 3 reads them: Sigstore bundles stored as referrers
 * of the saved image, else its `.sig` image (`kind: dev.cosignproject.cosign/sigs`).
 */
export async function verifyLocalImages(ctx: CliContext, dirs: readonly string[], s: LocalVerifySettings): Promise<number> {
  const { OciLayout } = await import('../oci/layout.js');
  const { verifyImage } = await import('../verify/image.js');
  const { verifyOutputJson } = await import('../payload/payload.js');
  const { parseReference } = await import('../reference.js');
  const { CosignError, isCosignError } = await import('../errors.js');
  for (const dir of dirs) {
    let result;
    try {
      const layout = await OciLayout.open(dir);
      const subject = layout.subject();
      const ref = parseReference(`${LOCAL_NAME}@${subject.digest}`);
      result = await verifyImage(ref, {
        client: layout,
        authorities: s.authorities,
        ...(s.annotations === undefined ? {} : { annotations: s.annotations }),
        ...(s.tlog === undefined ? {} : { tlog: s.tlog }),
        signal: ctx.signal,
        timeoutMs: 0,
      });
    } catch (e) {
      if (isCosignError(e, 'NO_SIGNATURES')) {
        throw new CliError(`no signatures associated with the image saved in ${dir}`, EXIT.NO_SIGNATURES, 'NO_SIGNATURES', { cause: e });
      }
      if (isCosignError(e, 'NOT_FOUND') || isCosignError(e, 'BAD_INPUT') || isCosignError(e, 'BAD_MANIFEST') || isCosignError(e, 'BAD_DIGEST')) {
        throw new CliError(`reading the OCI layout ${dir}: ${e.message}`, EXIT.ERROR, e.code, { cause: e });
      }
      if (isCosignError(e, 'DIGEST_MISMATCH') || isCosignError(e, 'TOO_LARGE') || isCosignError(e, 'IO_ERROR')) {
        throw new CliError(e.message, EXIT.ERROR, e.code, { cause: e });
      }
      // Messages name the layout, not the placeholder reference.
      return s.verifyError(
        isCosignError(e)
          ? new CosignError(e.code, e.message.split(LOCAL_NAME).join(dir), { cause: e, ...(e.details === undefined ? {} : { details: e.details }) })
          : e,
      );
    }
    const bundle = result.format === 'bundle';
    s.header(ctx, dir, bundle && s.tlog === undefined ? s.bundleChecks : s.checks);
    // A saved image has no name: like cosign 3, a bundle's claims name no docker-reference.
    const payloads = result.signatures.map((sig) => (sig.format === 'bundle' ? { ...sig.payload, dockerReference: '' } : sig.payload));
    if (s.text) {
      for (const [i, sig] of result.signatures.entries()) {
        const p = payloads[i];
        const text = sig.format === 'bundle' && p !== undefined ? Buffer.from(verifyOutputJson([p])).subarray(2, -2) : Buffer.from(sig.layer.payload);
        out(ctx, Buffer.concat([text, Buffer.from('\n')]));
      }
    } else {
      out(ctx, bundle ? verifyOutputJson(payloads) : result.output);
    }
  }
  return 0;
}
