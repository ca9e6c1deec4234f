-- Retry inflation per tenant: attempts per AWU, and the share of tokens spent on retries.
-- Retry tokens are those of attempts after the first (attempt >= 2), read
-- from the events ledger. It has no month dimension: an AWU's retries may
-- fall in a later month than its first event. Counts are summed in
-- Decimal(38, 0) and converted back to Int64, which fails rather than wraps;
-- the ratios are taken in Float64.
SELECT
    tenant_id,
    awus,
    attempts,
    round(toFloat64(attempts) / awus, 4)                 AS attempts_per_awu,
    tokens,
    retry_tokens,
    round(if(tokens = 0, 0, toFloat64(retry_tokens) / toFloat64(tokens)), 4) AS retry_token_share
FROM
(
    SELECT tenant_id, count() AS awus, toInt64(sum(toDecimal128(attempts, 0))) AS attempts
    FROM awus FINAL
    WHERE 1 /* filters: tenant = tenant_id */
    GROUP BY tenant_id
) AS a
ANY LEFT JOIN
(
    SELECT
        tenant_id,
        toInt64(sum(toDecimal128(input_tokens, 0) + toDecimal128(output_tokens, 0)))          AS tokens,
        toInt64(sumIf(toDecimal128(input_tokens, 0) + toDecimal128(output_tokens, 0), attempt >= 2)) AS retry_tokens
    FROM events FINAL
    WHERE type = 'token_usage' /* filters: tenant = tenant_id */
    GROUP BY tenant_id
) AS t USING tenant_id
ORDER BY tenant_id;
