import Database from 'better-sqlite3';
import { migrations } from './migrations.ts';

export type Db = Database.Database;

export class SchemaTooNewError extends Error {}

/** Opens (creating if needed) a lab database with WAL, foreign keys and all migrations applied. */
export function openDatabase(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db): void {
  const current = schemaVersion(db);
  if (current > migrations.length) {
    db.close();
    throw new SchemaTooNewError(
      `this lab was written by a newer FactorLab (schema ${current}, this build knows ${migrations.length}); update FactorLab to open it`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
