import Database from 'better-sqlite3';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

export class SchemaTooNewError extends Error {}

/** Opens (creating if needed) a lab database with WAL, foreign keys and all migrations applied. */
export function openDatabase(file: string): Db {
  // Switching a new file to WAL and the first migration take locks for which SQLite does not
  // always call the busy handler (another process opening the same new lab at that moment):
  // retry the whole opening for a while instead of failing.
  const deadline = Date.now() + 20_000;
  for (let attempt = 0; ; attempt++) {
    const db = new Database(file);
    try {
      db.pragma('busy_timeout = 10000');
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
      migrate(db);
      return db;
    } catch (e) {
      if (db.open) db.close();
      const code = (e as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(50 * 2 ** attempt, 500));
    }
  }
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Migrates in one IMMEDIATE transaction that re-reads the version under the write lock, so two
 * processes opening a new lab at once (CLI and UI, say) cannot both apply the same migration. */
function migrate(db: Db): void {
  let tooNew = 0;
  db.transaction(() => {
    const current = schemaVersion(db);
    if (current > migrations.length) {
      tooNew = current;
      return;
    }
    for (let v = current; v < migrations.length; v++) {
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
  if (tooNew) {
    db.close();
    throw new SchemaTooNewError(
      `this lab was written by a newer FactorLab (schema ${tooNew}, this build knows ${migrations.length}); update FactorLab to open it`,
    );
  }
}
