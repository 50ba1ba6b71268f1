/**
 * Sigstore signing configurations (`signing_config.json`, `application/vnd.dev.sigstore.signingconfig.v0.2+json`,
 * what cosign 3 takes with `--signing-config`): which Fulcio, Rekor and timestamp authority to use. A private
 * Sigstore deployment publishes one next to its trusted root.
 *
 * @module
 */
import { fail } from '../errors.js';
import { schema } from '../internal/deps.js';
import { parseJson } from '../json/strict.js';
import type { WitnessOptions } from './witness.js';

/** Size limit for a signing configuration file. */
export const MAX_SIGNING_CONFIG_BYTES = 1024 * 1024;

/** The signing configuration media type this reader knows. */
export const SIGNING_CONFIG_V02_MEDIA_TYPE = 'application/vnd.dev.sigstore.signingconfig.v0.2+json';

/** API versions this client speaks: Fulcio v1 (its `/api/v2` REST paths), Rekor v1 and v2, TSA v1. */
const MAX_VERSION = { ca: 1, tlog: 2, tsa: 1 } as const;

/** The services a signing configuration selects now. */
export interface SelectedServices {
  /** Fulcio's base URL (absent when the configuration names none: then only key signing works). */
  readonly fulcioURL?: string;
  /** Rekor, its API major version and the timestamp authority, as {@link WitnessOptions}. */
  readonly witness: Pick<WitnessOptions, 'rekorURL' | 'rekorVersion' | 'tsaURL'>;
}

const ConfigSchema = schema((z) => {
  const Service = z.object({
    url: z.string().url(),
    majorApiVersion: z.number().int().nonnegative().optional(),
    validFor: z.object({ start: z.string().optional(), end: z.string().optional() }).optional(),
    operator: z.string().optional(),
  });
  const Config = z.object({ selector: z.enum(['ANY', 'ALL', 'EXACT', 'SERVICE_SELECTOR_UNDEFINED']).optional(), count: z.number().int().optional() });
  return z.object({
    mediaType: z.literal(SIGNING_CONFIG_V02_MEDIA_TYPE),
    caUrls: z.array(Service).max(100).optional(),
    oidcUrls: z.array(Service).max(100).optional(),
    rekorTlogUrls: z.array(Service).max(100).optional(),
    rekorTlogConfig: Config.optional(),
    tsaUrls: z.array(Service).max(100).optional(),
    tsaConfig: Config.optional(),
  });
});

type Service = { url: string; majorApiVersion?: number | undefined; validFor?: { start?: string | undefined; end?: string | undefined } | undefined };

function time(s: string | undefined, where: string): number | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw fail('BAD_INPUT', `signing config: ${where}: not an RFC 3339 time`);
  return t;
}

/** Services valid at `now`, of a version this client speaks, highest version first, then the newest. */
function usable(services: ReadonlyArray<Service> | undefined, max: number, now: number, where: string): Service[] {
  return (services ?? [])
    .filter((s, i) => {
      const start = time(s.validFor?.start, `${where}[${i}].validFor.start`);
      const end = time(s.validFor?.end, `${where}[${i}].validFor.end`);
      const v = s.majorApiVersion ?? 1;
      return v >= 1 && v <= max && (start === undefined || start <= now) && (end === undefined || now < end);
    })
    .sort((a, b) => (b.majorApiVersion ?? 1) - (a.majorApiVersion ?? 1) || (time(b.validFor?.start, where) ?? 0) - (time(a.validFor?.start, where) ?? 0));
}

function pick(
  services: Service[],
  config: { selector?: string | undefined; count?: number | undefined } | undefined,
  what: string,
  declared: number,
): Service | undefined {
  if (declared === 0) return undefined;
  const selector = config?.selector ?? 'ANY';
  if (services.length === 0) throw fail('BAD_INPUT', `signing config: no ${what} is valid now with an API version cosign-ts speaks`);
  if (selector === 'ALL' && services.length > 1) {
    throw fail('UNSUPPORTED', `signing config: ${what} selector ALL names ${services.length} services; cosign-ts records a signature with one`);
  }
  if (selector === 'EXACT' && (config?.count ?? 1) !== 1) {
    throw fail('UNSUPPORTED', `signing config: ${what} selector EXACT with count ${config?.count}; cosign-ts records a signature with one`);
  }
  return services[0];
}

/**
 * Read a signing configuration and select, as sigstore-go does, the services to use at `now`: services whose
 * `validFor` window holds `now` and whose API version this client speaks, the highest version first, then the
 * newest; one service per kind (`ANY`, `EXACT` 1, or `ALL` with a single candidate; more is refused rather than
 * silently skipping a log the deployment requires). A kind with no URLs is not used (no Rekor upload, no
 * timestamp).
 * @throws CosignError `BAD_INPUT` for a malformed file or when a declared kind has no usable service,
 * `TOO_LARGE`, `UNSUPPORTED` for multi-service selectors.
 */
export function parseSigningConfig(json: string | Uint8Array, now: Date = new Date()): SelectedServices {
  const size = typeof json === 'string' ? Buffer.byteLength(json) : json.byteLength;
  if (size > MAX_SIGNING_CONFIG_BYTES) throw fail('TOO_LARGE', `signing config: over ${MAX_SIGNING_CONFIG_BYTES} bytes`);
  const text = typeof json === 'string' ? json : Buffer.from(json).toString('utf8');
  const parsed = ConfigSchema().safeParse(parseJson(text, 'signing config', 'BAD_INPUT'));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fail('BAD_INPUT', `signing config: ${issue?.path.map(String).join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const c = parsed.data;
  const t = now.getTime();
  const ca = pick(usable(c.caUrls, MAX_VERSION.ca, t, 'caUrls'), undefined, 'certificate authority', c.caUrls?.length ?? 0);
  const tlog = pick(usable(c.rekorTlogUrls, MAX_VERSION.tlog, t, 'rekorTlogUrls'), c.rekorTlogConfig, 'transparency log', c.rekorTlogUrls?.length ?? 0);
  const tsa = pick(usable(c.tsaUrls, MAX_VERSION.tsa, t, 'tsaUrls'), c.tsaConfig, 'timestamp authority', c.tsaUrls?.length ?? 0);
  return {
    ...(ca === undefined ? {} : { fulcioURL: ca.url }),
    witness: {
      ...(tlog === undefined ? {} : { rekorURL: tlog.url, rekorVersion: (tlog.majorApiVersion ?? 1) === 2 ? (2 as const) : (1 as const) }),
      ...(tsa === undefined ? {} : { tsaURL: tsa.url }),
    },
  };
}
