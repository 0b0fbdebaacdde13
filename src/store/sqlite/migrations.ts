// Numbered schema migrations; each runs once, in order, inside a transaction.
export const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE accounts (
        name TEXT PRIMARY KEY,
        subscription TEXT NOT NULL,
        resource_group TEXT NOT NULL,
        location TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE account_keys (
        account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
        key_name TEXT NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        PRIMARY KEY (account, key_name)
      );
      CREATE TABLE deployments (
        account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        model_format TEXT NOT NULL,
        model_name TEXT NOT NULL,
        model_version TEXT NOT NULL,
        sku_name TEXT NOT NULL,
        sku_capacity INTEGER NOT NULL,
        state TEXT NOT NULL,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (account, name)
      );
    `,
  },
];
