import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';

/** Content-addressed files under `<lab>/blobs/`: the name is the SHA-256 of the bytes. */
export class BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true });
  }

  path(hash: string, ext = ''): string {
    return join(this.root, hash.slice(0, 2), hash + ext);
  }

  has(hash: string, ext = ''): boolean {
    return existsSync(this.path(hash, ext));
  }

  /** Writes atomically (temp file, fsync, rename) so a crash never leaves a half blob under its hash. */
  put(bytes: Uint8Array, ext = ''): string {
    const hash = createHash('sha256').update(bytes).digest('hex');
    const target = this.path(hash, ext);
    if (existsSync(target)) return hash;
    mkdirSync(join(this.root, hash.slice(0, 2)), { recursive: true });
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(tmp, bytes);
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
    return hash;
  }

  get(hash: string, ext = ''): Buffer {
    return readFileSync(this.path(hash, ext));
  }

  putFloat32(values: Float32Array): string {
    return this.put(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), '.f32');
  }

  getFloat32(hash: string): Float32Array {
    const buf = this.get(hash, '.f32');
    const copy = new Float32Array(buf.byteLength / 4);
    new Uint8Array(copy.buffer).set(buf);
    return copy;
  }
}
