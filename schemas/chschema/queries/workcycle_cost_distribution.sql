-- The distribution of cost per workcycle, per month and tenant: workcycles per cost bucket, at token prices and at list prices.
-- Closed workcycles by the UTC month they started, each counted twice: once
-- by its token cost (price = 'token') and once by its list price (price =
-- 'list'). Buckets follow a 1-2-5 series in USD from $0.001 to $1,000; a
-- workcycle falls in the bucket whose lower bound, bucket_from, is the
-- highest one not above its cost (bucket 0 holds costs under $0.001, bucket
-- 1000 everything from $1,000). Costs are compared as Float64, which is
-- exact at the bounds: a Decimal converts to the Float64 nearest to it, as
-- the literal bound does. Empty buckets are not listed.
-- The filters apply outside FINAL, so an older version in another month never counts.
SELECT
    month,
    tenant_id,
    price,
    bucket_from,
    count()                                                AS workcycles
FROM
(
    WITH [0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] AS bounds
    SELECT
        toStartOfMonth(started_at)                         AS month,
        tenant_id,
        arrayJoin([('token', toFloat64(token_cost)), ('list', toFloat64(list_cost))]) AS priced,
        tupleElement(priced, 1)                            AS price,
        bounds[arrayCount(b -> b <= tupleElement(priced, 2), bounds)] AS bucket_from
    FROM (SELECT * FROM workcycles FINAL)
    WHERE state = 'closed' /* filters: month = toStartOfMonth(started_at), tenant = tenant_id */
)
GROUP BY month, tenant_id, price, bucket_from
ORDER BY month, tenant_id, price, bucket_from;
