/**
 * The typed predicates cosign decodes into Go structures before writing them: `vuln` (cosign's
 * `CosignVulnPredicate`), `slsaprovenance` / `slsaprovenance02` (in-toto-golang's SLSA v0.2
 * `ProvenancePredicate`) and `slsaprovenance1` (its SLSA v1 one). Go's `json.Unmarshal` then `json.Marshal` reorders the members to the struct's
 * order, drops unknown members, fills absent non-`omitempty` fields with zero values and re-formats times
 * (RFC 3339 with trimmed fractional seconds); this module does the same so the statement bytes are cosign's.
 *
 * Upstream: sigstore/cosign `pkg/cosign/attestation/attestation.go`; in-toto/in-toto-golang
 * `in_toto/slsa_provenance/v0.2/provenance.go`, `.../common/common.go`.
 *
 * @module
 */
import { fail } from '../errors.js';
import { goStruct, type GoStruct, type GoValue } from '../json/gojson.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { readonly [k: string]: Json };

const bad = (path: string, want: string): never => {
  throw fail('BAD_INPUT', `predicate: ${path}: cannot decode into Go ${want}`);
};

/** Go's field lookup: the exact name, else the first case-insensitive match. */
function field(o: Obj, name: string): Json | undefined {
  if (Object.hasOwn(o, name)) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

function object(v: Json | undefined, path: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) return bad(path, 'struct');
  return v;
}

function str(v: Json | undefined, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') return bad(path, 'string');
  return v;
}

function bool(v: Json | undefined, path: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') return bad(path, 'bool');
  return v;
}

/** `interface{}`: the JSON value as it is (maps are written with sorted keys by goMarshal). */
function any(v: Json | undefined): GoValue {
  return v === undefined ? null : (v as GoValue);
}

/** `map[string]string` (`DigestSet`). */
function digestSet(v: Json | undefined, path: string): Record<string, string> | undefined {
  const o = object(v, path);
  if (o === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) out[k] = str(x, `${path}.${k}`);
  return out;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** `time.Time`: parsed as RFC 3339, written as Go's RFC3339Nano (fraction without trailing zeros, `Z` for UTC). */
function time(v: Json | undefined, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') return bad(path, 'time.Time');
  const m = RFC3339.exec(v);
  if (m === null) throw fail('BAD_INPUT', `predicate: ${path}: not an RFC 3339 time`);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const zone = m[4] === '+00:00' || m[4] === '-00:00' ? 'Z' : m[4];
  return `${m[1]}T${m[2]}${frac === '.' ? '' : frac}${zone}`;
}

/** `omitempty` on a string: "" is left out. */
const omitString = (v: string): string | undefined => (v === '' ? undefined : v);
/** `omitempty` on a map: nil or empty is left out. */
const omitMap = (v: Record<string, string> | undefined): Record<string, string> | undefined => (v === undefined || Object.keys(v).length === 0 ? undefined : v);
/** `omitempty` on an `interface{}`: only nil is left out (an empty map or "" held by it is written). */
const omitAny = (v: GoValue): GoValue => (v === null ? undefined : v);

/** cosign's `CosignVulnPredicate` (`--type vuln`). */
function vulnPredicate(p: Obj): GoStruct {
  const inv = object(field(p, 'invocation'), 'invocation') ?? {};
  const scanner = object(field(p, 'scanner'), 'scanner') ?? {};
  const db = object(field(scanner, 'db'), 'scanner.db') ?? {};
  const meta = object(field(p, 'metadata'), 'metadata') ?? {};
  const zeroTime = '0001-01-01T00:00:00Z';
  return goStruct(
    [
      'invocation',
      goStruct(
        ['parameters', any(field(inv, 'parameters'))],
        ['uri', str(field(inv, 'uri'), 'invocation.uri')],
        ['event_id', str(field(inv, 'event_id'), 'invocation.event_id')],
        ['builder.id', str(field(inv, 'builder.id'), 'invocation.builder.id')],
      ),
    ],
    [
      'scanner',
      goStruct(
        ['uri', str(field(scanner, 'uri'), 'scanner.uri')],
        ['version', str(field(scanner, 'version'), 'scanner.version')],
        ['db', goStruct(['uri', str(field(db, 'uri'), 'scanner.db.uri')], ['version', str(field(db, 'version'), 'scanner.db.version')])],
        ['result', any(field(scanner, 'result'))],
      ),
    ],
    [
      'metadata',
      goStruct(
        ['scanStartedOn', time(field(meta, 'scanStartedOn'), 'metadata.scanStartedOn') ?? zeroTime],
        ['scanFinishedOn', time(field(meta, 'scanFinishedOn'), 'metadata.scanFinishedOn') ?? zeroTime],
      ),
    ],
  );
}

/** in-toto-golang's SLSA v0.2 `ProvenancePredicate` (`--type slsaprovenance` / `slsaprovenance02`). */
function slsa02Predicate(p: Obj): GoStruct {
  // cosign checks these two keys (exact names, null allowed) before decoding
  for (const k of ['builder', 'buildType']) {
    if (!Object.hasOwn(p, k)) throw fail('BAD_INPUT', `provenance predicate: required field ${k} missing`);
  }
  const builder = object(field(p, 'builder'), 'builder') ?? {};
  const inv = object(field(p, 'invocation'), 'invocation') ?? {};
  const cs = object(field(inv, 'configSource'), 'invocation.configSource') ?? {};
  const metaIn = object(field(p, 'metadata'), 'metadata');
  let metadata: GoStruct | undefined;
  if (metaIn !== undefined) {
    const c = object(field(metaIn, 'completeness'), 'metadata.completeness') ?? {};
    metadata = goStruct(
      ['buildInvocationId', omitString(str(field(metaIn, 'buildInvocationId'), 'metadata.buildInvocationId'))],
      ['buildStartedOn', time(field(metaIn, 'buildStartedOn'), 'metadata.buildStartedOn')],
      ['buildFinishedOn', time(field(metaIn, 'buildFinishedOn'), 'metadata.buildFinishedOn')],
      [
        'completeness',
        goStruct(
          ['parameters', bool(field(c, 'parameters'), 'metadata.completeness.parameters')],
          ['environment', bool(field(c, 'environment'), 'metadata.completeness.environment')],
          ['materials', bool(field(c, 'materials'), 'metadata.completeness.materials')],
        ),
      ],
      ['reproducible', bool(field(metaIn, 'reproducible'), 'metadata.reproducible')],
    );
  }
  const matIn = field(p, 'materials');
  let materials: GoValue[] | undefined;
  if (matIn !== undefined && matIn !== null) {
    if (!Array.isArray(matIn)) return bad('materials', 'slice');
    materials = matIn.map((m, i) => {
      const o = object(m, `materials[${i}]`) ?? {};
      return goStruct(
        ['uri', omitString(str(field(o, 'uri'), `materials[${i}].uri`))],
        ['digest', omitMap(digestSet(field(o, 'digest'), `materials[${i}].digest`))],
      );
    });
  }
  return goStruct(
    ['builder', goStruct(['id', str(field(builder, 'id'), 'builder.id')])],
    ['buildType', str(field(p, 'buildType'), 'buildType')],
    [
      'invocation',
      // a struct is never empty for omitempty: configSource and invocation are always written
      goStruct(
        [
          'configSource',
          goStruct(
            ['uri', omitString(str(field(cs, 'uri'), 'invocation.configSource.uri'))],
            ['digest', omitMap(digestSet(field(cs, 'digest'), 'invocation.configSource.digest'))],
            ['entryPoint', omitString(str(field(cs, 'entryPoint'), 'invocation.configSource.entryPoint'))],
          ),
        ],
        ['parameters', omitAny(any(field(inv, 'parameters')))],
        ['environment', omitAny(any(field(inv, 'environment')))],
      ),
    ],
    ['buildConfig', omitAny(any(field(p, 'buildConfig')))],
    ['metadata', metadata],
    ['materials', materials === undefined || materials.length === 0 ? undefined : materials],
  );
}

/** in-toto-golang's v1 `ResourceDescriptor`. */
function resourceDescriptor(v: Json, path: string): GoStruct {
  const o = object(v, path) ?? {};
  const content = field(o, 'content');
  let bytes: Uint8Array | undefined;
  if (content !== undefined && content !== null) {
    const text = str(content, `${path}.content`);
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) bad(`${path}.content`, '[]byte (base64)');
    bytes = new Uint8Array(Buffer.from(text, 'base64'));
  }
  const annotations = object(field(o, 'annotations'), `${path}.annotations`);
  return goStruct(
    ['uri', omitString(str(field(o, 'uri'), `${path}.uri`))],
    ['digest', omitMap(digestSet(field(o, 'digest'), `${path}.digest`))],
    ['name', omitString(str(field(o, 'name'), `${path}.name`))],
    ['downloadLocation', omitString(str(field(o, 'downloadLocation'), `${path}.downloadLocation`))],
    ['mediaType', omitString(str(field(o, 'mediaType'), `${path}.mediaType`))],
    ['content', bytes === undefined || bytes.byteLength === 0 ? undefined : bytes],
    ['annotations', annotations === undefined || Object.keys(annotations).length === 0 ? undefined : (annotations as GoValue)],
  );
}

/** A `[]ResourceDescriptor` with `omitempty`. */
function descriptors(v: Json | undefined, path: string): GoValue[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) return bad(path, 'slice');
  return v.length === 0 ? undefined : v.map((d, i) => resourceDescriptor(d, `${path}[${i}]`));
}

/** in-toto-golang's SLSA v1 `ProvenancePredicate` (`--type slsaprovenance1`). */
function slsa1Predicate(p: Obj): GoStruct {
  for (const k of ['buildDefinition', 'runDetails']) {
    if (!Object.hasOwn(p, k)) throw fail('BAD_INPUT', `provenance predicate: required field ${k} missing`);
  }
  const def = object(field(p, 'buildDefinition'), 'buildDefinition') ?? {};
  const run = object(field(p, 'runDetails'), 'runDetails') ?? {};
  const builder = object(field(run, 'builder'), 'runDetails.builder') ?? {};
  const meta = object(field(run, 'metadata'), 'runDetails.metadata') ?? {};
  return goStruct(
    [
      'buildDefinition',
      goStruct(
        ['buildType', str(field(def, 'buildType'), 'buildDefinition.buildType')],
        ['externalParameters', any(field(def, 'externalParameters'))],
        ['internalParameters', omitAny(any(field(def, 'internalParameters')))],
        ['resolvedDependencies', descriptors(field(def, 'resolvedDependencies'), 'buildDefinition.resolvedDependencies')],
      ),
    ],
    [
      'runDetails',
      goStruct(
        [
          'builder',
          goStruct(
            ['id', str(field(builder, 'id'), 'runDetails.builder.id')],
            ['version', omitMap(digestSet(field(builder, 'version'), 'runDetails.builder.version'))],
            ['builderDependencies', descriptors(field(builder, 'builderDependencies'), 'runDetails.builder.builderDependencies')],
          ),
        ],
        [
          'metadata',
          goStruct(
            ['invocationID', omitString(str(field(meta, 'invocationID'), 'runDetails.metadata.invocationID'))],
            ['startedOn', time(field(meta, 'startedOn'), 'runDetails.metadata.startedOn')],
            ['finishedOn', time(field(meta, 'finishedOn'), 'runDetails.metadata.finishedOn')],
          ),
        ],
        ['byproducts', descriptors(field(run, 'byproducts'), 'runDetails.byproducts')],
      ),
    ],
  );
}

/**
 * Re-encode a parsed predicate the way cosign does for types it decodes into Go structures, or return
 * `undefined` for a type it keeps as a generic JSON map. `typeName` is the `--type` short name.
 * @throws CosignError `BAD_INPUT` when a member does not fit the Go type (cosign fails then too).
 */
export function typedPredicate(typeName: string, value: unknown): GoValue | undefined {
  if (!['vuln', 'slsaprovenance', 'slsaprovenance02', 'slsaprovenance1'].includes(typeName)) return undefined;
  const o = object(value as Json, '(root)');
  if (o === undefined) return bad('(root)', 'struct');
  if (typeName === 'vuln') return vulnPredicate(o);
  return typeName === 'slsaprovenance1' ? slsa1Predicate(o) : slsa02Predicate(o);
}
