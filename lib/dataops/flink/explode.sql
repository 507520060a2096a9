-- The course's explode job: one raw CoinGecko /simple/price poll per Kafka record
-- -> one row per coin. Flink SQL (Flink 2.2.1 + flink-sql-connector-kafka 5.0.0-2.2) and the
-- project's Java functions, JSON_MEMBERS and, with the raw topic in Avro, AVRO_POLL (below).
-- No coin is hard-coded: the job explodes whatever keys the poll carries.
-- Placeholders (filled by dataops.flink.submit, named here without their $ and braces):
--   bootstrap, source_topic, good_topic, dlq_topic, group_id, txn_prefix, cur (the
--   vs_currency setting), exploded_format (the exploded topic's value format: JSON, or Avro in
--   Confluent's wire format with the registry, DATAOPS_TOPIC_FORMAT), registry_auth (its login,
--   secret: never on a command line), event_time and processed_at (their expressions: timestamps,
--   or ISO-8601 strings in Avro) and, from the record contract (data/schemas/exploded_row.json through
--   dataops.contract): exploded_columns (the exploded row's columns), coin_fields, coin_wrapped,
--   coin_wrapped_names, coin_numbers, coin_number_names, coin_values and coin_typed (each coin
--   field's extraction) and coin_checks (the
--   rejection reasons: types, finiteness, minimum/exclusiveMinimum/maximum, pattern); and how the
--   raw topic's values are read (dataops.flink.job.raw_format): raw_type, raw_decoder,
--   poll_decoding, poll_body and decode_check (JSON: the value is the poll's text; Avro: AVRO_POLL,
--   below, decodes it into that text).
-- Statements are separated by a line holding only ';'. Views are registered as Table
-- objects (dataops.flink.submit), so both sinks share one plan of the JSON extraction.
-- NOTE: `raw` is a reserved word in Flink SQL, hence the column name `body`.

CREATE TEMPORARY TABLE raw_polls (
  body          ${raw_type},
  src_topic     STRING           METADATA FROM 'topic'     VIRTUAL,
  src_partition INT              METADATA FROM 'partition' VIRTUAL,
  src_offset    BIGINT           METADATA FROM 'offset'    VIRTUAL,
  src_timestamp TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL
) WITH (
  'connector' = 'kafka',
  'topic' = '${source_topic}',
  'properties.bootstrap.servers' = '${bootstrap}',
${kafka_security}  'properties.group.id' = '${group_id}',
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
${kafka_security}  'key.format' = 'raw',
  'key.fields' = 'coin_id',
  'value.fields-include' = 'ALL',
${exploded_format}${registry_auth}  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = '${txn_prefix}-good',
  -- A checkpoint's transaction is committed when Flink hears the checkpoint completed; a recovery
  -- that comes later than this timeout finds it aborted by the broker and its rows lost (a laptop
  -- asleep with the job frozen in between). So: as long as the broker allows (its
  -- transaction.max.timeout.ms, 15 min by default), and a lid closed for up to 15 min loses nothing.
  'properties.transaction.timeout.ms' = '900000'
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
${kafka_security}  'format' = 'json',
  'json.timestamp-format.standard' = 'ISO-8601',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = '${txn_prefix}-dlq',
  'properties.transaction.timeout.ms' = '900000'  -- as above
)
;
-- JSON_MEMBERS(json) (lib/stack/flink-udf, Java): a JSON object's members, name -> value as JSON
-- text (numbers as written, strings quoted, a null value as NULL), read in one pass; NULL when the
-- text is not a JSON object. Flink's own JSON functions parse the whole text again for every path
-- asked of it: with them the job spent most of its time parsing the same poll a dozen times.
CREATE TEMPORARY FUNCTION JSON_MEMBERS AS 'org.dataops.flink.JsonMembers' LANGUAGE JAVA
;
-- AVRO_POLL(value, registry_url, login_file) (lib/stack/flink-udf, Java), with a raw topic in Avro only:
-- ROW(poll, decode_error), a value in Confluent's wire format decoded by its writer schema from the
-- registry into the poll's JSON text, any other value (a poll the schema could not carry, a replay)
-- as its text; a value that does not decode: in base64, with decode_error saying why.
${raw_decoder}-- Poll level: can the record be read at all? (IS JSON never throws; truncated JSON -> FALSE)
-- JSON has no NaN or Infinity, but Python's json.dumps writes them: a body that is not JSON only
-- because of such a bare literal is read with the literal quoted ("NaN", "Infinity"), so the coin
-- that carries it goes to the dead letters as non_finite and the other coins of the poll still flow.
-- A body that is JSON is never rewritten; `raw` in the dead letters is always the original.
-- An expression used twice in a view is computed twice (no common-subexpression reuse), but a
-- table-function argument is evaluated once per row: so each step below is a
-- CROSS JOIN UNNEST(ARRAY[ROW(...)]) whose columns the next steps reuse.
CREATE TEMPORARY VIEW polls AS
SELECT
  ${poll_body} AS body, d.doc, k.coins, r.src_topic, r.src_partition, r.src_offset, r.src_timestamp,
  CASE
    ${decode_check}WHEN ${poll_body} IS NULL                  THEN 'null_value'
    WHEN k.coins IS NULL AND NOT (d.doc IS JSON) THEN 'unparseable_json'
    WHEN k.coins IS NULL                       THEN 'not_a_json_object'
    WHEN CARDINALITY(k.coins) = 0              THEN 'empty_poll'
  END AS poll_error
FROM raw_polls AS r${poll_decoding}
CROSS JOIN UNNEST(ARRAY[ROW(
    CASE WHEN ${poll_body} IS JSON THEN ${poll_body}  -- (Flink's REGEXP_REPLACE has no $1: one pass per literal)
         ELSE REGEXP_REPLACE(REGEXP_REPLACE(REGEXP_REPLACE(${poll_body},
                '(?<=[:\[,]\s{0,16})NaN(?=\s*[,}\]])', '"NaN"'),
                '(?<=[:\[,]\s{0,16})-Infinity(?=\s*[,}\]])', '"-Infinity"'),
                '(?<=[:\[,]\s{0,16})\+?Infinity(?=\s*[,}\]])', '"Infinity"')
    END)]) AS d (doc)
CROSS JOIN UNNEST(ARRAY[ROW(JSON_MEMBERS(d.doc))]) AS k (coins)
;
-- One row per top-level key (coin id), whatever the coins are.
CREATE TEMPORARY VIEW coin_entries AS
SELECT
  p.body, p.src_topic, p.src_partition, p.src_offset, p.src_timestamp,
  c.coin_id, c.entry
FROM polls AS p
CROSS JOIN UNNEST(p.coins) AS c (coin_id, entry)
WHERE p.poll_error IS NULL
;
-- Typed, strict extraction (the SQL comes from the record contract, dataops.contract), in steps:
-- the entry's members; w_<field> the field's JSON text (NULL when missing or null); num_<field>
-- the double that text reads as, quotes trimmed (a quoted "NaN" is how the job reads a bare NaN);
-- then the typed column, where only a JSON number (never a string) counts.
CREATE TEMPORARY VIEW coin_typed AS
SELECT
  e.body, e.src_topic, e.src_partition, e.src_offset, e.src_timestamp, e.coin_id, e.entry,
  w.is_object,
  ${coin_typed}
FROM coin_entries AS e
CROSS JOIN UNNEST(ARRAY[ROW(JSON_MEMBERS(e.entry))]) AS m (fields)
CROSS JOIN UNNEST(ARRAY[ROW(
    m.fields IS NOT NULL,
    ${coin_wrapped})]) AS w (is_object, ${coin_wrapped_names})
CROSS JOIN UNNEST(ARRAY[ROW(
    ${coin_numbers})]) AS n (${coin_number_names})
CROSS JOIN UNNEST(ARRAY[ROW(
    ${coin_values})]) AS t (${coin_fields})
;
-- The contract, per coin: the rules of data/schemas/exploded_row.json, in dataops.contract's
-- order (the coin id's pattern; per field: missing, non-finite, type, bounds). First violation wins.
CREATE TEMPORARY VIEW coin_rows AS
SELECT
  body, src_topic, src_partition, src_offset, src_timestamp, coin_id, entry, ${coin_fields},
  CASE
    WHEN NOT is_object THEN 'entry_not_an_object'
    ${coin_checks}
  END AS reason
FROM coin_typed
;
EXECUTE STATEMENT SET
BEGIN
INSERT INTO exploded (coin_id, ${coin_fields}, event_time, processed_at)
SELECT
  coin_id, ${coin_fields},
  ${event_time} AS event_time,
  ${processed_at} AS processed_at
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
