-- Daily and monthly rollups. They are views over FINAL, not materialized
-- aggregates: an aggregating materialized view would add every version of a
-- row, so a re-emitted workcycle or a replayed batch would count twice.
-- FINAL keeps exactly the latest version of each AWU before anything is
-- summed, so each rollup equals a sum over the distinct final rows, whatever
-- was inserted how many times. An AWU counts on the UTC day (month) of its
-- first event; the monthly views sum the daily ones.

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
    sum(attempts)                                      AS attempts,
    attempts - count()                                 AS retries,
    sum(input_tokens)                                  AS input_tokens,
    sum(output_tokens)                                 AS output_tokens,
    sum(cache_read_input_tokens)                       AS cache_read_input_tokens,
    sum(cache_creation_input_tokens)                   AS cache_creation_input_tokens,
    sum(reasoning_tokens)                              AS reasoning_tokens,
    sum(token_cost)                                    AS token_cost,
    sum(credits)                                       AS credits,
    sum(list_cost)                                     AS list_cost,
    sum(unpriced_tokens)                               AS unpriced_tokens
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
    sum(attempts)                                      AS attempts,
    sum(retries)                                       AS retries,
    sum(input_tokens)                                  AS input_tokens,
    sum(output_tokens)                                 AS output_tokens,
    sum(cache_read_input_tokens)                       AS cache_read_input_tokens,
    sum(cache_creation_input_tokens)                   AS cache_creation_input_tokens,
    sum(reasoning_tokens)                              AS reasoning_tokens,
    sum(token_cost)                                    AS token_cost,
    sum(credits)                                       AS credits,
    sum(list_cost)                                     AS list_cost,
    sum(unpriced_tokens)                               AS unpriced_tokens
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
    sum(input_tokens)                                  AS input_tokens,
    sum(output_tokens)                                 AS output_tokens,
    sum(cache_read_input_tokens)                       AS cache_read_input_tokens,
    sum(cache_creation_input_tokens)                   AS cache_creation_input_tokens,
    sum(reasoning_tokens)                              AS reasoning_tokens,
    sum(token_cost)                                    AS token_cost,
    sum(unpriced_tokens)                               AS unpriced_tokens
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
    sum(input_tokens)                                  AS input_tokens,
    sum(output_tokens)                                 AS output_tokens,
    sum(cache_read_input_tokens)                       AS cache_read_input_tokens,
    sum(cache_creation_input_tokens)                   AS cache_creation_input_tokens,
    sum(reasoning_tokens)                              AS reasoning_tokens,
    sum(token_cost)                                    AS token_cost,
    sum(unpriced_tokens)                               AS unpriced_tokens
FROM {{db}}.model_usage_daily
GROUP BY month, tenant_id, agent_id, model, provider, tool;
