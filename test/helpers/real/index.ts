/**
 * Real components for end-to-end tests (installed by `bash scripts/install-deps.sh`): see README.md
 * beside this file.
 */
export * from './proc.js';
export * from './http.js';
export * from './registry.js';
export * from './tools.js';
export * from './image.js';
export * from './podman.js';
export * from './cosign3.js';
