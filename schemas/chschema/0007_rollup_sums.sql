-- The rollups again, with every sum of an Int64 column (token counts,
-- attempts, credits) checked. sum(Int64) is an Int64 and wraps: two AWUs of
-- 5,000,000,000,000,000,000 input tokens each summed to
-- -8,446,744,073,709,551,616. Here each sum is taken in Decimal(38, 0), a
-- 128-bit integer that cannot wrap, and converted back with toInt64, which
-- fails the query ("Decimal convert overflow") rather than return a number
-- beyond int64. So the columns keep their Int64 type and integer division
-- semantics for analysts, and a sum either is exact or is refused. Counts
-- (count(), countIf, sums of UInt8 flags) stay UInt64, token_cost and
-- list_cost stay Decimal(38, 12).
--
-- 0005 is applied on existing databases and is left as it was; these
-- statements replace its views. The monthly views are dropped first and
-- created last, since they read the daily ones.

DROP TABLE IF EXISTS {{db}}.usage_monthly{{onCluster}};
DROP TABLE IF EXISTS {{db}}.model_usage_monthly{{onCluster}};
DROP TABLE IF EXISTS {{db}}.usage_daily{{onCluster}};
DROP TABLE IF EXISTS {{db}}.model_usage_daily{{onCluster}};

CREATE VIEW IF NOT EXISTS {{db}}.usage_daily{{onCluster}} AS
SELECT
    toDate(first_seen)                                 AS day,
    tenant_id,
    agent_id,
    kind,
    tool,
    channel,
    count()                                            AS awus,
    countIf(status = 'succeeded')                      AS awus_succeeded,
    countIf(status = 'failed')                         AS awus_failed,
    sum(validated)                                     AS awus_validated,
    sum(rolled_back)                                   AS awus_rolled_back,
    countIf(kind = 'tool' AND status = 'succeeded')    AS actions,
    countIf(kind = 'tool' AND status = 'succeeded' AND channel = 'voice') AS voice_actions,
    toInt64(sum(toDecimal128(attempts, 0)))            AS attempts,
    attempts - toInt64(count())                        AS retries,
    toInt64(sum(toDecimal128(input_tokens, 0)))        AS input_tokens,
    toInt64(sum(toDecimal128(output_tokens, 0)))       AS output_tokens,
    toInt64(sum(toDecimal128(cache_read_input_tokens, 0))) AS cache_read_input_tokens,
    toInt64(sum(toDecimal128(cache_creation_input_tokens, 0))) AS cache_creation_input_tokens,
    toInt64(sum(toDecimal128(reasoning_tokens, 0)))    AS reasoning_tokens,
    sum(token_cost)                                    AS token_cost,
    toInt64(sum(toDecimal128(credits, 0)))             AS credits,
    sum(list_cost)                                     AS list_cost,
    toInt64(sum(toDecimal128(unpriced_tokens, 0)))     AS unpriced_tokens
FROM {{db}}.awus FINAL
GROUP BY day, tenant_id, agent_id, kind, tool, channel;

CREATE VIEW IF NOT EXISTS {{db}}.usage_monthly{{onCluster}} AS
SELECT
    toStartOfMonth(day)                                AS month,
    tenant_id,
    agent_id,
    kind,
    tool,
    channel,
    sum(awus)                                          AS awus,
    sum(awus_succeeded)                                AS awus_succeeded,
    sum(awus_failed)                                   AS awus_failed,
    sum(awus_validated)                                AS awus_validated,
    sum(awus_rolled_back)                              AS awus_rolled_back,
    sum(actions)                                       AS actions,
    sum(voice_actions)                                 AS voice_actions,
    toInt64(sum(toDecimal128(attempts, 0)))            AS attempts,
    toInt64(sum(toDecimal128(retries, 0)))             AS retries,
    toInt64(sum(toDecimal128(input_tokens, 0)))        AS input_tokens,
    toInt64(sum(toDecimal128(output_tokens, 0)))       AS output_tokens,
    toInt64(sum(toDecimal128(cache_read_input_tokens, 0))) AS cache_read_input_tokens,
    toInt64(sum(toDecimal128(cache_creation_input_tokens, 0))) AS cache_creation_input_tokens,
    toInt64(sum(toDecimal128(reasoning_tokens, 0)))    AS reasoning_tokens,
    sum(token_cost)                                    AS token_cost,
    toInt64(sum(toDecimal128(credits, 0)))             AS credits,
    sum(list_cost)                                     AS list_cost,
    toInt64(sum(toDecimal128(unpriced_tokens, 0)))     AS unpriced_tokens
FROM {{db}}.usage_daily
GROUP BY month, tenant_id, agent_id, kind, tool, channel;

CREATE VIEW IF NOT EXISTS {{db}}.model_usage_daily{{onCluster}} AS
SELECT
    toDate(first_seen)                                 AS day,
    tenant_id,
    agent_id,
    model,
    provider,
    tool,
    count()                                            AS awus,
    toInt64(sum(toDecimal128(input_tokens, 0)))        AS input_tokens,
    toInt64(sum(toDecimal128(output_tokens, 0)))       AS output_tokens,
    toInt64(sum(toDecimal128(cache_read_input_tokens, 0))) AS cache_read_input_tokens,
    toInt64(sum(toDecimal128(cache_creation_input_tokens, 0))) AS cache_creation_input_tokens,
    toInt64(sum(toDecimal128(reasoning_tokens, 0)))    AS reasoning_tokens,
    sum(token_cost)                                    AS token_cost,
    toInt64(sum(toDecimal128(unpriced_tokens, 0)))     AS unpriced_tokens
FROM {{db}}.awu_models FINAL
GROUP BY day, tenant_id, agent_id, model, provider, tool;

CREATE VIEW IF NOT EXISTS {{db}}.model_usage_monthly{{onCluster}} AS
SELECT
    toStartOfMonth(day)                                AS month,
    tenant_id,
    agent_id,
    model,
    provider,
    tool,
    sum(awus)                                          AS awus,
    toInt64(sum(toDecimal128(input_tokens, 0)))        AS input_tokens,
    toInt64(sum(toDecimal128(output_tokens, 0)))       AS output_tokens,
    toInt64(sum(toDecimal128(cache_read_input_tokens, 0))) AS cache_read_input_tokens,
    toInt64(sum(toDecimal128(cache_creation_input_tokens, 0))) AS cache_creation_input_tokens,
    toInt64(sum(toDecimal128(reasoning_tokens, 0)))    AS reasoning_tokens,
    sum(token_cost)                                    AS token_cost,
    toInt64(sum(toDecimal128(unpriced_tokens, 0)))     AS unpriced_tokens
FROM {{db}}.model_usage_daily
GROUP BY month, tenant_id, agent_id, model, provider, tool;
