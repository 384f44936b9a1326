import Database from 'better-sqlite3';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

export class SchemaTooNewError extends Error {}

/** Opens (creating if needed) a lab database with WAL, foreign keys and all migrations applied. */
export function openDatabase(file: string): Db {
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
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
