-- The course's explode job: one raw CoinGecko /simple/price poll per Kafka record
-- -> one row per coin. Pure Flink SQL (Flink 2.2.1 + flink-sql-connector-kafka 5.0.0-2.2).
-- No coin is hard-coded: the job explodes whatever keys the poll carries.
-- Placeholders (filled by dataops.flink_submit, named here without their $ and braces):
--   bootstrap, source_topic, good_topic, dlq_topic, group_id, txn_prefix, cur (the
--   vs_currency setting) and exploded_columns (the exploded row's columns, from the record contract)
-- Statements are separated by a line holding only ';'. Views are registered as Table
-- objects (dataops.flink_submit), so both sinks share one plan of the JSON extraction.
-- NOTE: `raw` is a reserved word in Flink SQL, hence the column name `body`.

CREATE TEMPORARY TABLE raw_polls (
  body          STRING,
  src_topic     STRING           METADATA FROM 'topic'     VIRTUAL,
  src_partition INT              METADATA FROM 'partition' VIRTUAL,
  src_offset    BIGINT           METADATA FROM 'offset'    VIRTUAL,
  src_timestamp TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL
) WITH (
  'connector' = 'kafka',
  'topic' = '${source_topic}',
  'properties.bootstrap.servers' = '${bootstrap}',
  'properties.group.id' = '${group_id}',
  'properties.isolation.level' = 'read_committed',
  -- resume from the offsets committed at the last completed checkpoint; first run: earliest
  'scan.startup.mode' = 'group-offsets',
  'properties.auto.offset.reset' = 'earliest',
  'format' = 'raw'
)
;
-- The row contract (data/schemas/exploded_row.json, through dataops.contract).
CREATE TEMPORARY TABLE exploded (
  ${exploded_columns}
) WITH (
  'connector' = 'kafka',
  'topic' = '${good_topic}',
  'properties.bootstrap.servers' = '${bootstrap}',
  'key.format' = 'raw',
  'key.fields' = 'coin_id',
  'value.format' = 'json',
  'value.fields-include' = 'ALL',
  'value.json.timestamp-format.standard' = 'ISO-8601',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = '${txn_prefix}-good',
  -- must be <= the broker's transaction.max.timeout.ms (15 min by default)
  'properties.transaction.timeout.ms' = '600000'
)
;
CREATE TEMPORARY TABLE dead_letters (
  granularity   STRING NOT NULL,   -- 'poll' (whole record unusable) or 'coin' (one entry broke the contract)
  reason        STRING NOT NULL,
  coin_id       STRING,
  coin_entry    STRING,            -- the coin's JSON fragment (normalised by JSON_QUERY), coin level only
  `raw`         STRING,            -- the whole original record value, byte-for-byte (UTF-8)
  src_topic     STRING,
  src_partition INT,
  src_offset    BIGINT,
  src_timestamp TIMESTAMP_LTZ(3),
  detected_at   TIMESTAMP_LTZ(3) NOT NULL
) WITH (
  'connector' = 'kafka',
  'topic' = '${dlq_topic}',
  'properties.bootstrap.servers' = '${bootstrap}',
  'format' = 'json',
  'json.timestamp-format.standard' = 'ISO-8601',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = '${txn_prefix}-dlq',
  'properties.transaction.timeout.ms' = '600000'
)
;
-- Poll level: can the record be read at all? (IS JSON never throws; truncated JSON -> FALSE)
CREATE TEMPORARY VIEW polls AS
SELECT
  body, src_topic, src_partition, src_offset, src_timestamp,
  CASE
    WHEN body IS NULL                 THEN 'null_value'
    WHEN NOT (body IS JSON)           THEN 'unparseable_json'
    WHEN NOT (body IS JSON OBJECT)    THEN 'not_a_json_object'
    WHEN CARDINALITY(JSON_QUERY(JSON_QUERY(body, '$.keys()'), '$' RETURNING ARRAY<STRING>)) = 0
                                      THEN 'empty_poll'
  END AS poll_error
FROM raw_polls
;
-- One row per top-level key (coin id), whatever the coins are, parsing the poll once per path:
-- '$.keys()' (Jayway) yields a Set: JSON_QUERY(... RETURNING ARRAY) cannot cast it (-> NULL),
-- but as a STRING it serialises to a JSON array, which the outer JSON_QUERY turns into ARRAY<STRING>.
-- '$.*' gives the values in the same (document) order; MAP_FROM_ARRAYS + UNNEST(map) pairs them.
-- Doing it inside UNNEST(...) matters: a table-function argument is evaluated once per poll, while
-- an expression in a view is inlined into every place that uses it (no common-subexpression reuse).
CREATE TEMPORARY VIEW coin_entries AS
SELECT
  p.body, p.src_topic, p.src_partition, p.src_offset, p.src_timestamp,
  c.coin_id, c.entry
FROM polls AS p
CROSS JOIN UNNEST(MAP_FROM_ARRAYS(
    JSON_QUERY(JSON_QUERY(p.body, '$.keys()'), '$' RETURNING ARRAY<STRING>),
    JSON_QUERY(p.body, '$.*' RETURNING ARRAY<STRING>))) AS c (coin_id, entry)
WHERE p.poll_error IS NULL
;
-- Typed, strict extraction. Never use JSON_VALUE(... RETURNING DOUBLE) on untrusted input:
-- on a JSON *string* it throws ClassCastException and fails the job (NULL/DEFAULT ON ERROR do not catch it).
-- JSON_QUERY(... WITH WRAPPER) gives '[95000.1]' for a number and '["95000.1"]' for a string;
-- stripping the brackets and TRY_CAST-ing accepts JSON numbers only.
-- UNNEST(ARRAY[ROW(...)]) again evaluates each JSON_QUERY once per coin (see above).
CREATE TEMPORARY VIEW coin_typed AS
SELECT
  e.body, e.src_topic, e.src_partition, e.src_offset, e.src_timestamp, e.coin_id, e.entry,
  w.is_object, w.w_price, w.w_cap, w.w_vol, w.w_chg, w.w_ts,
  TRY_CAST(SUBSTRING(w.w_price FROM 2 FOR CHAR_LENGTH(w.w_price) - 2) AS DOUBLE) AS ${cur},
  TRY_CAST(SUBSTRING(w.w_cap FROM 2 FOR CHAR_LENGTH(w.w_cap) - 2) AS DOUBLE) AS ${cur}_market_cap,
  TRY_CAST(SUBSTRING(w.w_vol FROM 2 FOR CHAR_LENGTH(w.w_vol) - 2) AS DOUBLE) AS ${cur}_24h_vol,
  TRY_CAST(SUBSTRING(w.w_chg FROM 2 FOR CHAR_LENGTH(w.w_chg) - 2) AS DOUBLE) AS ${cur}_24h_change,
  TRY_CAST(SUBSTRING(w.w_ts  FROM 2 FOR CHAR_LENGTH(w.w_ts)  - 2) AS BIGINT) AS last_updated_at
FROM coin_entries AS e
CROSS JOIN UNNEST(ARRAY[ROW(
    e.entry IS JSON OBJECT,
    JSON_QUERY(e.entry, '$.${cur}'             WITH WRAPPER),
    JSON_QUERY(e.entry, '$.${cur}_market_cap'  WITH WRAPPER),
    JSON_QUERY(e.entry, '$.${cur}_24h_vol'     WITH WRAPPER),
    JSON_QUERY(e.entry, '$.${cur}_24h_change'  WITH WRAPPER),
    JSON_QUERY(e.entry, '$.last_updated_at' WITH WRAPPER))]) AS w (is_object, w_price, w_cap, w_vol, w_chg, w_ts)
;
-- The contract, per coin. First violation wins.
CREATE TEMPORARY VIEW coin_rows AS
SELECT
  body, src_topic, src_partition, src_offset, src_timestamp, coin_id, entry,
  ${cur}, ${cur}_market_cap, ${cur}_24h_vol, ${cur}_24h_change, last_updated_at,
  CASE
    WHEN NOT is_object                          THEN 'entry_not_an_object'
    WHEN w_price IS NULL                         THEN 'missing_or_null:${cur}'
    WHEN ${cur} IS NULL                          THEN 'not_a_number:${cur}'
    WHEN ${cur} <= 0                             THEN 'non_positive:${cur}'
    WHEN w_ts IS NULL                            THEN 'missing_or_null:last_updated_at'
    WHEN last_updated_at IS NULL                 THEN 'not_an_integer:last_updated_at'
    WHEN last_updated_at NOT BETWEEN 1230768000 AND 4102444800
                                                 THEN 'out_of_range:last_updated_at'  -- not epoch seconds (2009..2100)
    WHEN w_cap IS NOT NULL AND ${cur}_market_cap IS NULL THEN 'not_a_number:${cur}_market_cap'
    WHEN w_vol IS NOT NULL AND ${cur}_24h_vol    IS NULL THEN 'not_a_number:${cur}_24h_vol'
    WHEN w_chg IS NOT NULL AND ${cur}_24h_change IS NULL THEN 'not_a_number:${cur}_24h_change'
  END AS reason
FROM coin_typed
;
EXECUTE STATEMENT SET
BEGIN
INSERT INTO exploded
SELECT
  coin_id, ${cur}, ${cur}_market_cap, ${cur}_24h_vol, ${cur}_24h_change, last_updated_at,
  TO_TIMESTAMP_LTZ(last_updated_at, 0) AS event_time,
  CURRENT_TIMESTAMP                    AS processed_at
FROM coin_rows
WHERE reason IS NULL;
INSERT INTO dead_letters
SELECT 'poll', poll_error, CAST(NULL AS STRING), CAST(NULL AS STRING), body,
       src_topic, src_partition, src_offset, src_timestamp, CURRENT_TIMESTAMP
FROM polls
WHERE poll_error IS NOT NULL
UNION ALL
SELECT 'coin', reason, coin_id, entry, body,
       src_topic, src_partition, src_offset, src_timestamp, CURRENT_TIMESTAMP
FROM coin_rows
WHERE reason IS NOT NULL;
END
