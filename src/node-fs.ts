/**
 * `readFile` and `stat` as promises on top of `node:fs`'s callback API. `node:fs/promises` loads
 * Node's FileHandle, stream and readline code on first use (a few ms of every CLI call); reading a
 * key file or `config.json` needs none of it.
 *
 * @module
 */
import { readFile as readFileCb, stat as statCb, type PathLike, type Stats } from 'node:fs';

/** `fs.promises.readFile` for a path or `file:` URL. */
export function readFile(file: PathLike): Promise<Buffer>;
export function readFile(file: PathLike, encoding: BufferEncoding): Promise<string>;
export function readFile(file: PathLike, encoding?: BufferEncoding): Promise<Buffer | string> {
  return new Promise((resolve, reject) => {
    if (encoding === undefined) readFileCb(file, (err, data) => (err === null ? resolve(data) : reject(err)));
    else readFileCb(file, encoding, (err, data) => (err === null ? resolve(data) : reject(err)));
  });
}

/** `fs.promises.stat`. */
export function stat(file: PathLike): Promise<Stats> {
  return new Promise((resolve, reject) => statCb(file, (err, st) => (err === null ? resolve(st) : reject(err))));
}
