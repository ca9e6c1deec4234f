-- Retry inflation per tenant: attempts per AWU, and the tokens spent by
-- attempts after the first (attempt >= 2), read from the events ledger.
SELECT
    tenant_id,
    awus,
    attempts,
    round(attempts / awus, 4)                            AS attempts_per_awu,
    tokens,
    retry_tokens,
    round(if(tokens = 0, 0, retry_tokens / tokens), 4)   AS retry_token_share
FROM
(
    SELECT tenant_id, count() AS awus, sum(attempts) AS attempts
    FROM {{db}}.awus FINAL
    GROUP BY tenant_id
) AS a
ANY LEFT JOIN
(
    SELECT
        tenant_id,
        sum(input_tokens + output_tokens)                     AS tokens,
        sumIf(input_tokens + output_tokens, attempt >= 2)     AS retry_tokens
    FROM {{db}}.events FINAL
    WHERE type = 'token_usage'
    GROUP BY tenant_id
) AS t USING tenant_id
ORDER BY tenant_id;
