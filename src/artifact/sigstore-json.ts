/**
 * containers/image's on-disk form of one sigstore signature layer (`dir:` transport `signature-N`
 * files, `*.signature` files): `0x00` `sigstore-json` `\n` then
 * `{"mimeType":…,"payload":"<base64 blob>","annotations":{…}}`.
 *
 * Upstream: containers/image `signature/internal/sigstore.go`, `signature/internal/signature.go`.
 *
 * @module
 */
import { schema } from '../internal/deps.js';
import { digestOf } from '../digest.js';
import { decodeBase64Strict } from '../encoding.js';
import { fail } from '../errors.js';
import { goMarshal, goStruct } from '../json/gojson.js';
import { decodeUtf8Strict, parseStrictJson } from '../json/strict.js';
import { ownRecord, parseSignatureLayer, type ParseSignatureLayerOptions, type SignatureLayer } from './layer.js';

/** Largest signature file accepted (16 MiB). */
export const MAX_SIGSTORE_JSON_BYTES = 16 * 1024 * 1024;

const FORMAT_ID = 'sigstore-json';

/** A decoded containers/image sigstore signature file. */
export interface SigstoreJsonSignature {
  /** The layer media type (`mimeType`). */
  readonly mediaType: string;
  /** The layer blob (decoded `payload`). */
  readonly payload: Uint8Array;
  /** The layer annotations, verbatim. */
  readonly annotations: Readonly<Record<string, string>>;
}

const Schema = schema((z) =>
  z.strictObject({
    mimeType: z.string(),
    payload: z.string(),
    annotations: z.record(z.string(), z.string()),
  }),
);

/**
 * Parse a containers/image sigstore signature file.
 * @throws CosignError `TOO_LARGE` or `BAD_SIGNATURE_LAYER` (wrong prefix, bad JSON, bad base64).
 */
export function parseSigstoreJsonSignature(bytes: Uint8Array): SigstoreJsonSignature {
  if (!(bytes instanceof Uint8Array)) throw fail('BAD_SIGNATURE_LAYER', 'sigstore signature file: expected bytes');
  if (bytes.byteLength > MAX_SIGSTORE_JSON_BYTES) throw fail('TOO_LARGE', `sigstore signature file: over ${MAX_SIGSTORE_JSON_BYTES} bytes`);
  if (bytes.byteLength < 1 || bytes[0] !== 0x00) throw fail('BAD_SIGNATURE_LAYER', 'sigstore signature file: does not start with a 0x00 byte');
  const nl = bytes.indexOf(0x0a, 1);
  if (nl < 0) throw fail('BAD_SIGNATURE_LAYER', 'sigstore signature file: no format line');
  const format = Buffer.from(bytes.subarray(1, nl)).toString('latin1');
  if (format !== FORMAT_ID) throw fail('BAD_SIGNATURE_LAYER', `sigstore signature file: unknown format ${JSON.stringify(format.slice(0, 100))}`);
  const text = decodeUtf8Strict(bytes.subarray(nl + 1), 'sigstore signature file', 'BAD_SIGNATURE_LAYER');
  const value = parseStrictJson(text, 'sigstore signature file', 'BAD_SIGNATURE_LAYER');
  const parsed = Schema().safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    throw fail('BAD_SIGNATURE_LAYER', `sigstore signature file: ${path}: ${issue?.message ?? 'invalid'}`, { details: { path } });
  }
  return Object.freeze({
    mediaType: parsed.data.mimeType,
    payload: new Uint8Array(decodeBase64Strict(parsed.data.payload, 'sigstore signature file: payload', 'BAD_SIGNATURE_LAYER')),
    annotations: Object.freeze(ownRecord((value as { annotations: Record<string, string> }).annotations)),
  });
}

/** Write a containers/image sigstore signature file (compact Go JSON after the prefix). */
export function encodeSigstoreJsonSignature(sig: SigstoreJsonSignature): Uint8Array {
  const json = goMarshal(goStruct(['mimeType', sig.mediaType], ['payload', sig.payload], ['annotations', sig.annotations]));
  return Buffer.concat([Buffer.from([0x00]), Buffer.from(`${FORMAT_ID}\n`, 'latin1'), Buffer.from(json, 'utf8')]);
}

/**
 * Turn a containers/image signature file into a {@link SignatureLayer} (descriptor computed from the
 * blob), with the same checks as {@link parseSignatureLayer}: a non-simplesigning `mimeType` gives
 * `TYPE_MISMATCH`.
 */
export function signatureLayerFromSigstoreJson(sig: SigstoreJsonSignature, options: ParseSignatureLayerOptions = {}): SignatureLayer {
  return parseSignatureLayer(
    { mediaType: sig.mediaType, size: sig.payload.byteLength, digest: digestOf(sig.payload), annotations: sig.annotations },
    sig.payload,
    options,
  );
}
