import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Database, type Storage } from '../../../../platform/database.ts';
import { DEMO_PASSWORD, demoUsers } from '../../../../platform/demo-data.ts';
import { migrate } from '../../../../platform/migrate.ts';
import { verifyPassword } from '../../../../subgraphs/users/passwords.ts';
import { DEFAULT_USERS_OPTIONS, usersModule } from '../../../../subgraphs/users/server.ts';

describe('the users module seed', () => {
  let storage: Storage;
  let db: Database;
  beforeAll(async () => {
    storage = await openStorage({ dataDir: 'memory://' });
    db = storage.forService('users');
    await migrate(db, { schema: 'users', dir: usersModule().migrationsDir });
  });
  afterAll(async () => {
    await storage?.close();
  });

  it('gives every demo account the configured password, not the published one', async () => {
    const module = usersModule({ ...DEFAULT_USERS_OPTIONS, demoPassword: 'an operator chose this one' });
    await db.transaction((tx) => module.seed(tx));
    const rows = await db.query<{ email: string; password_hash: string }>('SELECT email, password_hash FROM users.users ORDER BY email');
    expect(rows.map((row) => row.email).sort()).toEqual(demoUsers.map((user) => user.email).sort());
    for (const row of rows) {
      expect(await verifyPassword('an operator chose this one', row.password_hash), row.email).toBe(true);
      expect(await verifyPassword(DEMO_PASSWORD, row.password_hash), row.email).toBe(false);
    }
  });
});
