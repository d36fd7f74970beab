/// The schema's migrations, by version: `migrations[n]` takes a database from schema n to n + 1. Each
/// runs in the migrating transaction; `?1` and `?2` are bound to the legacy scope's account and region.
extension SQLiteBackend {
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE keys (id TEXT PRIMARY KEY, description TEXT NOT NULL, key_usage TEXT NOT NULL,
              key_spec TEXT NOT NULL, state TEXT NOT NULL, creation_date INTEGER NOT NULL, deletion_date INTEGER,
              policy TEXT NOT NULL, rotation_enabled INTEGER NOT NULL, rotation_period_days INTEGER,
              next_rotation_date INTEGER)
            """,
            """
            CREATE TABLE backing_keys (seq INTEGER PRIMARY KEY AUTOINCREMENT, key_id TEXT NOT NULL REFERENCES keys(id),
              backing_key_id TEXT NOT NULL UNIQUE, token BLOB NOT NULL, created_at INTEGER NOT NULL, origin TEXT NOT NULL)
            """,
            "CREATE INDEX backing_keys_by_key ON backing_keys(key_id, seq)",
            """
            CREATE TABLE aliases (name TEXT PRIMARY KEY, key_id TEXT NOT NULL REFERENCES keys(id),
              creation_date INTEGER NOT NULL, last_updated_date INTEGER NOT NULL)
            """,
            "CREATE INDEX aliases_by_key ON aliases(key_id, name)",
            """
            CREATE TABLE tags (key_id TEXT NOT NULL REFERENCES keys(id), tag_key TEXT NOT NULL, tag_value TEXT NOT NULL,
              PRIMARY KEY (key_id, tag_key))
            """,
            "CREATE TABLE domain_tokens (epoch INTEGER PRIMARY KEY, der BLOB NOT NULL)",
        ],
        // Schema 2: keys, backing keys, aliases and tags live in an account and a region. The tables are
        // rebuilt with the scope in their keys; rows of schema 1 move into the legacy scope (bound as
        // ?1 = account, ?2 = region).
        [
            "ALTER TABLE keys RENAME TO keys_v1",
            "ALTER TABLE backing_keys RENAME TO backing_keys_v1",
            "ALTER TABLE aliases RENAME TO aliases_v1",
            "ALTER TABLE tags RENAME TO tags_v1",
            "DROP INDEX backing_keys_by_key",
            "DROP INDEX aliases_by_key",
            """
            CREATE TABLE keys (account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL,
              description TEXT NOT NULL, key_usage TEXT NOT NULL, key_spec TEXT NOT NULL, state TEXT NOT NULL,
              creation_date INTEGER NOT NULL, deletion_date INTEGER, policy TEXT NOT NULL,
              rotation_enabled INTEGER NOT NULL, rotation_period_days INTEGER, next_rotation_date INTEGER,
              PRIMARY KEY (account, region, id))
            """,
            """
            CREATE TABLE backing_keys (seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL,
              region TEXT NOT NULL, key_id TEXT NOT NULL, backing_key_id TEXT NOT NULL, token BLOB NOT NULL,
              created_at INTEGER NOT NULL, origin TEXT NOT NULL,
              UNIQUE (account, region, backing_key_id),
              FOREIGN KEY (account, region, key_id) REFERENCES keys(account, region, id))
            """,
            "CREATE INDEX backing_keys_by_key ON backing_keys(account, region, key_id, seq)",
            """
            CREATE TABLE aliases (account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
              key_id TEXT NOT NULL, creation_date INTEGER NOT NULL, last_updated_date INTEGER NOT NULL,
              PRIMARY KEY (account, region, name),
              FOREIGN KEY (account, region, key_id) REFERENCES keys(account, region, id))
            """,
            "CREATE INDEX aliases_by_key ON aliases(account, region, key_id, name)",
            """
            CREATE TABLE tags (account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
              tag_key TEXT NOT NULL, tag_value TEXT NOT NULL, PRIMARY KEY (account, region, key_id, tag_key),
              FOREIGN KEY (account, region, key_id) REFERENCES keys(account, region, id))
            """,
            """
            INSERT INTO keys SELECT ?1, ?2, id, description, key_usage, key_spec, state, creation_date, deletion_date,
              policy, rotation_enabled, rotation_period_days, next_rotation_date FROM keys_v1
            """,
            """
            INSERT INTO backing_keys (seq, account, region, key_id, backing_key_id, token, created_at, origin)
              SELECT seq, ?1, ?2, key_id, backing_key_id, token, created_at, origin FROM backing_keys_v1
            """,
            "INSERT INTO aliases SELECT ?1, ?2, name, key_id, creation_date, last_updated_date FROM aliases_v1",
            "INSERT INTO tags SELECT ?1, ?2, key_id, tag_key, tag_value FROM tags_v1",
            "DROP TABLE tags_v1",
            "DROP TABLE aliases_v1",
            "DROP TABLE backing_keys_v1",
            "DROP TABLE keys_v1",
        ],
        // Schema 3: imported key material (Origin EXTERNAL): where a key's material came from, when it
        // expires, and the commitment that identifies it (KeyMaterialId) so a re-import must match.
        [
            "ALTER TABLE keys ADD COLUMN origin TEXT NOT NULL DEFAULT 'AWS_KMS'",
            "ALTER TABLE keys ADD COLUMN expiration_model TEXT",
            "ALTER TABLE keys ADD COLUMN valid_to INTEGER",
            "ALTER TABLE keys ADD COLUMN key_material_id TEXT",
        ],
        // Schema 4: multi-Region keys (the primary key's region on every related key) and the deletion
        // window a primary waiting for its replicas' deletion keeps.
        [
            "ALTER TABLE keys ADD COLUMN primary_region TEXT",
            "ALTER TABLE keys ADD COLUMN pending_window_days INTEGER",
            "CREATE INDEX keys_by_account_id ON keys(account, id)",
        ],
        // Schema 5: grants (CreateGrant), each of one key; operations and constraints as JSON text.
        [
            """
            CREATE TABLE grants (account TEXT NOT NULL, region TEXT NOT NULL, key_id TEXT NOT NULL,
              grant_id TEXT NOT NULL, name TEXT, grantee TEXT NOT NULL, retiring_principal TEXT, issuer TEXT NOT NULL,
              operations TEXT NOT NULL, context_equals TEXT, context_subset TEXT, creation_date INTEGER NOT NULL,
              PRIMARY KEY (account, region, key_id, grant_id),
              FOREIGN KEY (account, region, key_id) REFERENCES keys(account, region, id))
            """,
            "CREATE INDEX grants_by_retiring ON grants(account, retiring_principal)",
        ],
        // Schema 6: the audit log, each row chained to the one before it (AuditChain), and its head.
        [
            """
            CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, event_id TEXT NOT NULL,
              key_arn TEXT, operation TEXT NOT NULL, record TEXT NOT NULL, chain BLOB NOT NULL)
            """,
            "CREATE INDEX audit_by_key ON audit_log(key_arn, seq)",
            "CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, chain BLOB NOT NULL)",
        ],
        // Schema 7: principals and their access keys, each key's secret sealed by an HSM (a token).
        [
            """
            CREATE TABLE principals (arn TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL,
              kind TEXT NOT NULL, policy TEXT, creation_date INTEGER NOT NULL)
            """,
            """
            CREATE TABLE access_keys (access_key_id TEXT PRIMARY KEY,
              principal_arn TEXT NOT NULL REFERENCES principals(arn), token BLOB NOT NULL,
              creation_date INTEGER NOT NULL)
            """,
            "CREATE INDEX access_keys_by_principal ON access_keys(principal_arn)",
        ],
        // Schema 8: a version per key row, so that a change applies only to the row it was read from.
        ["ALTER TABLE keys ADD COLUMN version INTEGER NOT NULL DEFAULT 0"],
    ]
}
