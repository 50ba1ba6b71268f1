/**
 * Ids of the `vectors.json` entries that `legacy-sig.test.ts` runs and reproduces.
 * Merged with the other `covered-*.ts` lists by the coverage check in that file.
 */
export const COVERED_LEGACY_VECTOR_IDS: readonly string[] = [
  // legacy-sig/containers-image-dir
  'ci-key-valid',
  'ci-key-valid-wrong-key',
  'ci-key-valid-2',
  'ci-key-mixed',
  'ci-unknown-key',
  'ci-modified-manifest',
  'ci-manifest-digest-error',
  'ci-no-manifest',
  'ci-other-attachment',
  'ci-key-valid-with-tag',
  // legacy-sig/containers-image-dir+rekor-set
  'ci-key-rekor-valid',
  'ci-key-rekor-wrong-rekor-key',
  // legacy-sig/payload+sig
  'rs-key-busybox',
  'rs-key-busybox-wrong-key',
  // rekor-set
  'ci-rekor-set-standalone',
  'rs-rekord-set-key',
  'rs-rekord-set-wrong-key',
  // config
  'ci-rsa-rekor-key-config',
  // legacy-sig/oci-1.1-manifest (format + SET only)
  'harbor-oci11-sig-manifest',
];
