import type { Database } from '../../platform/database.ts';
import { badInput } from '../../platform/errors.ts';

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: 'CUSTOMER' | 'ADMIN';
  created_at: Date;
}

const COLUMNS = 'id, email, name, role, created_at';

export function createUserRepository(db: Database) {
  return {
    /** One query for any number of ids; rows come back in key order, null where missing. */
    async usersByIds(ids: readonly string[]): Promise<Array<UserRow | null>> {
      const rows = await db.query<UserRow>(`SELECT ${COLUMNS} FROM users.users WHERE id = ANY($1::uuid[])`, [ids]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    async credentialsByEmail(email: string): Promise<(UserRow & { password_hash: string }) | undefined> {
      const [row] = await db.query<UserRow & { password_hash: string }>(`SELECT ${COLUMNS}, password_hash FROM users.users WHERE email = $1`, [email]);
      return row;
    },

    async insert(user: { id: string; email: string; name: string; role: UserRow['role']; passwordHash: string }): Promise<UserRow> {
      try {
        const [row] = await db.query<UserRow>(
          `INSERT INTO users.users (id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
          [user.id, user.email, user.name, user.role, user.passwordHash],
        );
        return row!;
      } catch (error) {
        if ((error as { code?: string }).code === '23505') throw badInput('email', 'an account with this email already exists');
        throw error;
      }
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
