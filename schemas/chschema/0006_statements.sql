-- Closed monthly statements: immutable snapshots written once by
-- `awumeter statement --close` and never updated. Both tables are plain
-- MergeTree, append-only. Should two closes of the same (tenant_id, month)
-- race, the earliest closed_at wins (readers take the first row by
-- closed_at, then content_hash); the lines of a snapshot are addressed by its
-- (statement_id, content_hash), so the loser's lines are never read.
--
-- Times are whole seconds in UTC on every flavor. Money is exact:
-- Decimal(38, 12) for amounts and quantities, Decimal(38, 18) for unit prices
-- (a credit can cost a fraction of a cent).
CREATE TABLE IF NOT EXISTS {{db}}.{{table "statements"}}{{onCluster}}
(
    statement_id         String,
    tenant_id            String,
    month                String,
    time_zone            String,
    period_start         DateTime('UTC'),
    period_end           DateTime('UTC'),
    plan                 String,
    currency             String,
    action_credits       Int64,
    voice_action_credits Int64,
    prompt_awu_credits   Int64,
    credit_price         Decimal(38, 18),
    conversation_price   Decimal(38, 18),
    total                Decimal(38, 12),
    content_hash         String,
    closed_at            DateTime('UTC'),
    forced               UInt8,
    grace_seconds        Int64,
    cutoff_ingested_at   DateTime('UTC'),
    cutoff_topics        Array(String),
    cutoff_partitions    Array(Int32),
    cutoff_offsets       Array(Int64),
    ledger_events        Int64
)
ENGINE = {{engine "MergeTree" "statements"}}
ORDER BY (tenant_id, month, closed_at);

{{distributed "statements" "cityHash64(tenant_id)"}};

-- One row per line of a closed statement: kind 'line' for the month's own
-- line items, 'adjustment' for a late-data delta to an earlier closed
-- statement (ref_statement_id, ref_month). unit_price and amount are NULL
-- where a line has none (quantities shown for context).
CREATE TABLE IF NOT EXISTS {{db}}.{{table "statement_lines"}}{{onCluster}}
(
    statement_id         String,
    tenant_id            String,
    month                String,
    content_hash         String,
    line_no              UInt32,
    kind                 String,
    item                 String,
    model                String,
    quantity             Decimal(38, 12),
    unit                 String,
    unit_price           Nullable(Decimal(38, 18)),
    amount               Nullable(Decimal(38, 12)),
    currency             String,
    billed               UInt8,
    ref_statement_id     String,
    ref_month            String
)
ENGINE = {{engine "MergeTree" "statement_lines"}}
ORDER BY (tenant_id, month, content_hash, line_no);

{{distributed "statement_lines" "cityHash64(tenant_id)"}};
