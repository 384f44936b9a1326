import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { openDatabase, schemaVersion, SchemaTooNewError } from '../../../electron/core/store/database.ts';
import { migrations } from '../../../electron/core/store/migrations.ts';
import { BlobStore } from '../../../electron/core/store/blob-store.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

describe('lab database', () => {
  it('applies every migration, uses WAL and enforces foreign keys', () => {
    const d = tempDir();
    dirs.push(d);
    const db = openDatabase(join(d.path, 'lab.db'));
    expect(schemaVersion(db)).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(() => db.prepare(`INSERT INTO images (dataset_id, rel_path, file_name, bytes, sha256) VALUES (999, 'a', 'a', 1, 'x')`).run()).toThrow(/FOREIGN KEY/);
    db.close();
    // Opening again is a no-op migration-wise.
    const again = openDatabase(join(d.path, 'lab.db'));
    expect(schemaVersion(again)).toBe(migrations.length);
    again.close();
  });

  it('lets several processes open a new lab at the same moment (migrations run once)', async () => {
    const d = tempDir();
    dirs.push(d);
    const file = join(d.path, 'lab.db');
    const script = `import { openDatabase, schemaVersion } from ${JSON.stringify(new URL('../../../electron/core/store/database.ts', import.meta.url).pathname)};
const db = openDatabase(process.argv[1]); console.log(schemaVersion(db)); db.close();`;
    const runs = Array.from({ length: 4 }, () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, file]);
        let out = '';
        let err = '';
        child.stdout.on('data', (c) => (out += c));
        child.stderr.on('data', (c) => (err += c));
        child.on('exit', (code) => resolve({ code, out, err }));
      }),
    );
    for (const r of await Promise.all(runs)) {
      expect(r.code, r.err).toBe(0);
      expect(r.out.trim()).toBe(String(migrations.length));
    }
  });

  it('refuses a lab written by a newer schema instead of damaging it', () => {
    const d = tempDir();
    dirs.push(d);
    const file = join(d.path, 'lab.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${migrations.length + 5}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(SchemaTooNewError);
  });
});

describe('blob store', () => {
  it('names blobs by content and stores float32 arrays losslessly', () => {
    const d = tempDir();
    dirs.push(d);
    const blobs = new BlobStore(join(d.path, 'blobs'));
    const values = new Float32Array([1.5, -2.25, Math.PI, 0, 1e-30]);
    const h1 = blobs.putFloat32(values);
    const h2 = blobs.putFloat32(values.slice());
    expect(h1).toBe(h2);
    expect(h1).toMatch(/^[0-9a-f]{64}$/);
    expect(Array.from(blobs.getFloat32(h1))).toEqual(Array.from(values));
    expect(readFileSync(blobs.path(h1, '.f32')).length).toBe(20);
    const other = blobs.putFloat32(new Float32Array([1]));
    expect(other).not.toBe(h1);
    // no temp files left behind
    const sub = readdirSync(join(d.path, 'blobs', h1.slice(0, 2)));
    expect(sub.some((f) => f.endsWith('.tmp'))).toBe(false);
    expect(existsSync(blobs.path(h1, '.f32'))).toBe(true);
  });
});
