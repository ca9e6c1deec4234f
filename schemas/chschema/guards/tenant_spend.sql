-- Each tenant's spend per UTC hour, for the guards' tenant_hour and
-- tenant_day rules (docs/guards.md): the token and list cost of the latest
-- row of every AWU whose first event is in the hour, over the daily slices
-- a rollup refresh just refreshed (the days condition). A day's spend is the sum of
-- its hours. Run after that refresh, so it reads what the refresh read.
SELECT tenant_id, toStartOfHour(first_seen) AS hour, sum(token_cost) AS token_cost, sum(list_cost) AS list_cost
FROM {{db}}.awu_days FINAL
WHERE part = 'awu' AND {{days}} AND toDate(first_seen) = day
GROUP BY tenant_id, hour
ORDER BY tenant_id, hour;
