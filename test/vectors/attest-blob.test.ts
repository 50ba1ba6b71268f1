/**
 * cosign's blob-attestation test vectors (`dsse/key/attest-blob` in fixtures/vectors.json): DSSE envelopes over
 * in-toto statements, checked by `verifyBlobAttestation` as `cosign verify-blob-attestation --key …
 * --insecure-ignore-tlog=true [--type T]` does. Each must reproduce its expected outcome, for the reason the
 * vector names: with no `--type` in the vector ("any") the statement's own predicate type is asked for, so only
 * the subject decides.
 */
import { describe, expect, it } from 'vitest';
import { verifyBlobAttestation } from '../../src/blob/index.js';
import { isCosignError } from '../../src/errors.js';
import { parsePublicKey } from '../../src/keys/index.js';
import { fixture, vectors } from '../helpers/fixtures.js';

import { COVERED_ATTEST_BLOB_VECTOR_IDS } from './covered-attest-blob.js';

const ATTEST_BLOB = vectors().filter((v) => v.kind === 'dsse/key/attest-blob');

describe('cosign attest-blob vectors', () => {
  it('the fixtures hold the 8 vectors, all listed as covered', () => {
    expect(ATTEST_BLOB.map((v) => v.id).sort()).toEqual([...COVERED_ATTEST_BLOB_VECTOR_IDS].sort());
  });
  for (const v of ATTEST_BLOB) {
    it(`${v.id}: ${v.expected} (${v.reason})`, async () => {
      const [envelopeFile, blobFile] = v.files as [string, string];
      const trust = v.trust as { key: string; predicate_type_flag: string | null };
      const envelope = fixture(envelopeFile);
      const statement = JSON.parse(Buffer.from((JSON.parse(envelope.toString('utf8')) as { payload: string }).payload, 'base64').toString('utf8')) as {
        predicateType: string;
      };
      const run = verifyBlobAttestation(
        fixture(blobFile),
        parsePublicKey(fixture(trust.key)),
        { envelope },
        {
          type: trust.predicate_type_flag ?? statement.predicateType,
          insecureIgnoreTlog: true,
        },
      );
      if (v.expected === 'valid') await expect(run).resolves.toMatchObject({ format: 'envelope' });
      else {
        const e = await run.then(
          () => undefined,
          (x: unknown) => x,
        );
        expect(isCosignError(e), `${v.id} must be refused with a CosignError`).toBe(true);
      }
    });
  }
});
