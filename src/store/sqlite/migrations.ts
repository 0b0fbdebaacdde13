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
  {
    // Management plane: ARM account fields, retrievable keys (listKeys returns them, as Azure
    // does), deployment options and progress, async operations, identity, registered models.
    version: 2,
    sql: `
      ALTER TABLE accounts ADD COLUMN kind TEXT NOT NULL DEFAULT 'AIServices';
      ALTER TABLE accounts ADD COLUMN sku_name TEXT NOT NULL DEFAULT 'S0';
      ALTER TABLE accounts ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE accounts ADD COLUMN properties TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE account_keys ADD COLUMN key_value TEXT;
      ALTER TABLE deployments ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE deployments ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE deployments ADD COLUMN progress TEXT;
      ALTER TABLE deployments ADD COLUMN last_used_at INTEGER;
      CREATE TABLE operations (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        deployment TEXT,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        error_code TEXT,
        error_message TEXT,
        started_at INTEGER NOT NULL,
        ended_at INTEGER
      );
      CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE principals (
        object_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        kind TEXT NOT NULL,
        app_id TEXT UNIQUE,
        display_name TEXT NOT NULL,
        secret_hash TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE role_assignments (
        id TEXT PRIMARY KEY,
        principal TEXT NOT NULL REFERENCES principals(object_id) ON DELETE CASCADE,
        role TEXT NOT NULL,
        scope TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE registered_models (
        format TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        account TEXT,
        definition TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (format, name, version)
      );
    `,
  },
  {
    // Files (datasets, results): content in blobs/files/, validation outcome here.
    version: 3,
    sql: `
      CREATE TABLE files (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
        purpose TEXT NOT NULL,
        filename TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        status TEXT NOT NULL,
        status_details TEXT,
        format TEXT,
        examples INTEGER,
        sha256 TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER
      );
      CREATE INDEX files_by_account ON files (account, created_at);
    `,
  },
  {
    // Fine-tuning jobs, their events, checkpoints and per-step metrics (results.csv).
    version: 4,
    sql: `
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX jobs_by_account ON jobs (account, created_at);
      CREATE TABLE job_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        job TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT
      );
      CREATE INDEX job_events_by_job ON job_events (job, seq);
      CREATE TABLE job_checkpoints (
        id TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        account TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        step INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        adapter_path TEXT NOT NULL,
        metrics TEXT NOT NULL
      );
      CREATE TABLE job_metrics (
        job TEXT NOT NULL,
        step INTEGER NOT NULL,
        metrics TEXT NOT NULL,
        PRIMARY KEY (job, step)
      );
    `,
  },
  {
    // Usage history per deployment and minute, for Azure Monitor metrics and the portal's usage page.
    version: 5,
    sql: `
      CREATE TABLE usage_minutes (
        account TEXT NOT NULL,
        deployment TEXT NOT NULL,
        model TEXT NOT NULL,
        minute INTEGER NOT NULL,
        status INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        PRIMARY KEY (account, minute, deployment, model, status)
      );
    `,
  },
  {
    // Foundry projects under accounts.
    version: 6,
    sql: `
      CREATE TABLE projects (
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        display_name TEXT NOT NULL,
        description TEXT NOT NULL,
        is_default INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (account, name)
      );
    `,
  },
  {
    // Deployment names are case-insensitive, as ARM resource names are: one deployment per
    // account and name in any case. A database from before may hold two names that differ only
    // by case: the oldest keeps the name, the others are marked and stay readable by their
    // exact name (getDeployment prefers an exact match) until deleted.
    version: 7,
    sql: `
      ALTER TABLE deployments ADD COLUMN case_duplicate INTEGER NOT NULL DEFAULT 0;
      UPDATE deployments SET case_duplicate = 1 WHERE EXISTS (
        SELECT 1 FROM deployments o
        WHERE o.account = deployments.account AND o.name <> deployments.name AND lower(o.name) = lower(deployments.name)
          AND (o.created_at < deployments.created_at OR (o.created_at = deployments.created_at AND o.name < deployments.name))
      );
      CREATE UNIQUE INDEX deployments_name_nocase ON deployments (account, name COLLATE NOCASE) WHERE case_duplicate = 0;
    `,
  },
  {
    // Azure Machine Learning workspaces (Microsoft.MachineLearningServices). Names and resource
    // groups compare case-insensitively, as ARM's do; workspace_id is the stable GUID.
    version: 8,
    sql: `
      CREATE TABLE ml_workspaces (
        subscription TEXT NOT NULL COLLATE NOCASE,
        resource_group TEXT NOT NULL COLLATE NOCASE,
        name TEXT NOT NULL COLLATE NOCASE,
        kind TEXT NOT NULL,
        location TEXT NOT NULL,
        workspace_id TEXT NOT NULL UNIQUE,
        friendly_name TEXT NOT NULL,
        description TEXT NOT NULL,
        tags TEXT NOT NULL,
        hub_resource_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (subscription, resource_group, name)
      );
    `,
  },
  {
    // Azure ML marketplace subscriptions, keyed by the workspace's GUID and a case-insensitive
    // name; deleting the workspace deletes them (SqliteWorkspaceStore.deleteWorkspace).
    version: 9,
    sql: `
      CREATE TABLE ml_marketplace_subscriptions (
        workspace_id TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        model_id TEXT NOT NULL,
        plan TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, name)
      );
    `,
  },
  {
    // The Cognitive Services account behind each Azure ML workspace (WorkspaceRecord.account).
    // Workspaces made before it have none ('' in the record): recreate them to get one.
    version: 10,
    sql: `ALTER TABLE ml_workspaces ADD COLUMN account TEXT;`,
  },
  {
    // Azure ML's data plane (store/sqlite/ml-data-store.ts): each workspace's storage account on
    // Ingot's blob service, its datastores, data containers and versions (NOCASE names, keyed by
    // the workspace GUID), and the blob service's containers, blobs (names compare byte for byte,
    // as Azure's do) and uncommitted blocks. The content is in DATA_DIR/blobs/ml under content_key.
    version: 11,
    sql: `
      CREATE TABLE ml_storage_accounts (
        name TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL UNIQUE,
        account_key TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE ml_datastores (
        workspace_id TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        account_name TEXT NOT NULL,
        container_name TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        protocol TEXT NOT NULL,
        credentials_type TEXT NOT NULL,
        sas_token TEXT,
        description TEXT NOT NULL,
        tags TEXT NOT NULL,
        properties TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, name)
      );
      CREATE TABLE ml_data_containers (
        workspace_id TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        data_type TEXT NOT NULL,
        description TEXT NOT NULL,
        tags TEXT NOT NULL,
        properties TEXT NOT NULL,
        is_archived INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, name)
      );
      CREATE TABLE ml_data_versions (
        workspace_id TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        version TEXT NOT NULL COLLATE NOCASE,
        data_type TEXT NOT NULL,
        data_uri TEXT NOT NULL,
        is_anonymous INTEGER NOT NULL,
        is_archived INTEGER NOT NULL,
        description TEXT NOT NULL,
        tags TEXT NOT NULL,
        properties TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, name, version)
      );
      CREATE TABLE ml_blob_containers (
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        metadata TEXT NOT NULL,
        etag TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (account, name)
      );
      CREATE TABLE ml_blobs (
        account TEXT NOT NULL,
        container TEXT NOT NULL,
        name TEXT NOT NULL,
        content_key TEXT NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        content_encoding TEXT NOT NULL,
        content_language TEXT NOT NULL,
        content_disposition TEXT NOT NULL,
        cache_control TEXT NOT NULL,
        content_md5 TEXT NOT NULL,
        metadata TEXT NOT NULL,
        etag TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (account, container, name)
      );
      CREATE TABLE ml_blob_blocks (
        account TEXT NOT NULL,
        container TEXT NOT NULL,
        blob TEXT NOT NULL,
        block_id TEXT NOT NULL,
        content_key TEXT NOT NULL,
        size INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (account, container, blob, block_id)
      );
    `,
  },
  {
    // Azure ML serverless endpoints with their two keys (values for listKeys, hashes for matching
    // requests, as account keys). Names are unique across workspaces (the URL carries them).
    version: 13,
    sql: `
      CREATE TABLE ml_serverless_endpoints (
        workspace_id TEXT NOT NULL COLLATE NOCASE,
        name TEXT NOT NULL COLLATE NOCASE PRIMARY KEY,
        location TEXT NOT NULL,
        suffix TEXT NOT NULL,
        model_id TEXT NOT NULL,
        offer TEXT,
        model_format TEXT NOT NULL,
        model_name TEXT NOT NULL,
        model_version TEXT NOT NULL,
        auth_mode TEXT NOT NULL,
        content_safety TEXT NOT NULL,
        tags TEXT NOT NULL,
        marketplace_subscription_id TEXT,
        primary_key TEXT NOT NULL,
        primary_hash TEXT NOT NULL UNIQUE,
        secondary_key TEXT NOT NULL,
        secondary_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX ml_serverless_endpoints_workspace ON ml_serverless_endpoints (workspace_id);
      -- Deployment records of ML endpoints live in pseudo-accounts (mlDeploymentAccount, 'ml:<guid>')
      -- that are not rows of accounts: the table is rebuilt without its foreign key, and
      -- SqliteStore.deleteAccount deletes an account's deployments itself.
      CREATE TABLE deployments_rebuilt (
        account TEXT NOT NULL,
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
        tags TEXT NOT NULL DEFAULT '{}',
        options TEXT NOT NULL DEFAULT '{}',
        progress TEXT,
        last_used_at INTEGER,
        case_duplicate INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (account, name)
      );
      INSERT INTO deployments_rebuilt (account, name, model_format, model_name, model_version, sku_name, sku_capacity, state, error, created_at, updated_at, tags, options, progress, last_used_at, case_duplicate)
        SELECT account, name, model_format, model_name, model_version, sku_name, sku_capacity, state, error, created_at, updated_at, tags, options, progress, last_used_at, case_duplicate FROM deployments;
      DROP TABLE deployments;
      ALTER TABLE deployments_rebuilt RENAME TO deployments;
      CREATE UNIQUE INDEX deployments_name_nocase ON deployments (account, name COLLATE NOCASE) WHERE case_duplicate = 0;
    `,
  },
  {
    // Azure ML FineTuning jobs (the ML view of a fine-tuning job of the workspace's backing
    // account) and workspace models, keyed by the workspace's GUID and case-insensitive names.
    version: 12,
    sql: `
      CREATE TABLE ml_jobs (
        workspace_id TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        account TEXT NOT NULL,
        ftjob_id TEXT NOT NULL UNIQUE,
        properties TEXT NOT NULL,
        status TEXT NOT NULL,
        files TEXT NOT NULL,
        output TEXT NOT NULL,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, name)
      );
      CREATE TABLE ml_model_containers (
        workspace_id TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, name)
      );
      CREATE TABLE ml_model_versions (
        workspace_id TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        version TEXT NOT NULL COLLATE NOCASE,
        body TEXT NOT NULL,
        catalog_ref TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, name, version)
      );
    `,
  },
  {
    // Azure ML managed online endpoints and deployments (issue 13 item 8). Endpoint names are
    // unique across workspaces (the scoring URL is global); deployments are per endpoint. The
    // records are JSON; the runners behind them are deployment records (mlDeploymentAccount).
    version: 14,
    sql: `
      CREATE TABLE ml_online_endpoints (
        name TEXT NOT NULL COLLATE NOCASE PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX ml_online_endpoints_workspace ON ml_online_endpoints (workspace_id);
      CREATE TABLE ml_online_deployments (
        endpoint TEXT NOT NULL COLLATE NOCASE,
        name TEXT NOT NULL COLLATE NOCASE,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (endpoint, name)
      );
    `,
  },
  {
    // Content filtering (issue 14): an account's raiPolicies (the record as JSON), custom
    // raiBlocklists and their items. Names compare case-insensitively, as ARM's do.
    version: 15,
    sql: `
      CREATE TABLE rai_policies (
        account TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (account, name)
      );
      CREATE TABLE rai_blocklists (
        account TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        description TEXT NOT NULL,
        tags TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (account, name)
      );
      CREATE TABLE rai_blocklist_items (
        account TEXT NOT NULL,
        blocklist TEXT NOT NULL COLLATE NOCASE,
        name TEXT NOT NULL COLLATE NOCASE,
        pattern TEXT NOT NULL,
        is_regex INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (account, blocklist, name)
      );
    `,
  },
  {
    // Content Safety's blocklist items carry a description (core/safety/content-safety.ts); the
    // items are the raiBlocklistItems above. NULL: none given (ARM writes keep the old one).
    version: 16,
    sql: `ALTER TABLE rai_blocklist_items ADD COLUMN description TEXT;`,
  },
  {
    // Responses API (issue 15): stored responses, their input items and the conversation a
    // previous_response_id continues (JSON). Kept 30 days unless deleted (expires_at, ms).
    version: 17,
    sql: `
      CREATE TABLE responses (
        account TEXT NOT NULL,
        id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        input_items TEXT NOT NULL,
        conversation TEXT NOT NULL,
        PRIMARY KEY (account, id)
      );
      CREATE INDEX responses_expiry ON responses (expires_at);
    `,
  },
  {
    // Foundry projects' connections users add and dataset versions (core/projects/). Connection
    // keys are kept as account keys are (account_keys.key_value): in the database, never logged.
    version: 18,
    sql: `
      CREATE TABLE project_connections (
        account TEXT NOT NULL,
        project TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        category TEXT NOT NULL,
        target TEXT NOT NULL,
        credentials TEXT NOT NULL,
        metadata TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (account, project, name)
      );
      CREATE TABLE project_datasets (
        account TEXT NOT NULL,
        project TEXT NOT NULL,
        name TEXT NOT NULL COLLATE NOCASE,
        version TEXT NOT NULL,
        type TEXT NOT NULL,
        data_uri TEXT NOT NULL,
        connection_name TEXT,
        description TEXT,
        tags TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (account, project, name, version)
      );
    `,
  },
  {
    // Batch API (issue 15 item 2, core/batch): jobs and their request lines. Each line's result
    // (the output or error file line, JSON) is written as soon as the line finishes, so a restart
    // resumes with the pending lines only and a cancel keeps what finished. Times in ms.
    version: 19,
    sql: `
      CREATE TABLE batches (
        id TEXT NOT NULL PRIMARY KEY,
        account TEXT NOT NULL,
        deployment TEXT NOT NULL,
        model TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        input_file_id TEXT NOT NULL,
        completion_window TEXT NOT NULL,
        status TEXT NOT NULL,
        errors TEXT,
        output_file_id TEXT,
        error_file_id TEXT,
        created_at INTEGER NOT NULL,
        in_progress_at INTEGER,
        expires_at INTEGER NOT NULL,
        finalizing_at INTEGER,
        completed_at INTEGER,
        failed_at INTEGER,
        expired_at INTEGER,
        cancelling_at INTEGER,
        cancelled_at INTEGER,
        metadata TEXT,
        total INTEGER NOT NULL,
        enqueued_tokens INTEGER NOT NULL
      );
      CREATE INDEX batches_account ON batches (account, created_at);
      CREATE INDEX batches_status ON batches (status);
      CREATE TABLE batch_lines (
        batch_id TEXT NOT NULL,
        line INTEGER NOT NULL,
        custom_id TEXT NOT NULL,
        request TEXT NOT NULL,
        status TEXT NOT NULL,
        result TEXT,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        cached_tokens INTEGER,
        finished_at INTEGER,
        PRIMARY KEY (batch_id, line)
      );
      CREATE INDEX batch_lines_status ON batch_lines (batch_id, status, line);
    `,
  },
  {
    // Replicas on one database (issue 16 item 4): the replica running a fine-tuning job holds a
    // lease on it, renewed while it trains (core/finetuning/jobs.ts). A job whose lease ran out
    // (its replica died) is taken over by another and resumes from its last checkpoint.
    version: 20,
    sql: `
      CREATE TABLE job_leases (
        job TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
    `,
  },
];
