import type { Database } from "../../platform/database.ts";
import { batchByUuid } from "../../platform/sql-rows.ts";

export interface UserRow {
  id: string;
  email: string;
  name: string;
  role: "CUSTOMER" | "ADMIN";
  created_at: Date;
}

const COLUMNS = "id, email, name, role, created_at";

export function createUserRepository(db: Database) {
  return {
    /** One query for any number of ids; rows come back in key order, null where missing. */
    usersByIds: batchByUuid<UserRow>(db, "users.users", COLUMNS),

    async credentialsByEmail(
      email: string,
    ): Promise<(UserRow & { password_hash: string }) | undefined> {
      const [row] = await db.query<UserRow & { password_hash: string }>(
        `SELECT ${COLUMNS}, password_hash FROM users.users WHERE email = $1`,
        [email],
      );
      return row;
    },

    /** Creates the account; undefined when the email already has one (signUp must not say so: see resolvers.ts). */
    async insertIfNew(user: {
      id: string;
      email: string;
      name: string;
      role: UserRow["role"];
      passwordHash: string;
    }): Promise<UserRow | undefined> {
      const [row] = await db.query<UserRow>(
        `INSERT INTO users.users (id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
        [user.id, user.email, user.name, user.role, user.passwordHash],
      );
      return row;
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
