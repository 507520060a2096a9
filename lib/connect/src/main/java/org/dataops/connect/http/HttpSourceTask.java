package org.dataops.connect.http;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

import org.apache.kafka.clients.producer.RecordMetadata;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The poller. Each tick makes one GET; a 2xx answer becomes one record whose
 * value is the body exactly as received. Anything else is skipped and counted.
 *
 * <p>An API answer cannot be asked for again, so a polled record is kept until the
 * worker says it committed ({@link #commitRecord}). When its transaction fails (the
 * broker went away) the task fails; the task that replaces it in this worker sends
 * the kept records again, except those the committed source offset already covers
 * (offsets commit in the same transaction as the records, so none is sent twice).
 * Only a killed worker loses what it kept: the poll in flight.
 *
 * <p>A transaction whose commit the broker took but whose markers it has not written
 * yet (after a laptop's sleep, the broker wakes with work to catch up on) is not yet
 * readable: its offset is not seen, and its poll would be sent twice. So kept polls
 * wait up to {@link #SETTLE_MS}, the committed offset read again at each poll, before
 * they are re-sent; those it comes to cover are dropped.
 */
public class HttpSourceTask extends SourceTask {

    private static final Logger log = LoggerFactory.getLogger(HttpSourceTask.class);
    private static final long SLEEP_SLICE_MS = 200L;
    private static final int MAX_KEPT = 10_000;
    /** How long kept polls wait for a commit still being completed to become readable. */
    static final long SETTLE_MS = 10_000L;
    /** Polled records not yet committed, per topic and URL: they outlive a failed task, not the worker. */
    private static final ConcurrentMap<String, ConcurrentNavigableMap<Long, SourceRecord>> KEPT = new ConcurrentHashMap<>();

    private HttpSourceConfig config;
    private HttpClient client;
    private Map<String, String> sourcePartition;
    private volatile boolean stopping;
    private long nextPollAt;
    private long pollSeq;
    private long served;
    private long skipped;
    private ConcurrentNavigableMap<Long, SourceRecord> kept;
    private List<SourceRecord> resend = Collections.emptyList();
    private long settleUntil;

    @Override
    public String version() {
        return HttpSourceConnector.VERSION;
    }

    @Override
    public void start(Map<String, String> props) {
        config = new HttpSourceConfig(props);
        client = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(config.timeoutMs()))
                .build();
        sourcePartition = Collections.singletonMap("url", config.url());
        pollSeq = Math.max(committedPoll(), 0L);
        kept = KEPT.computeIfAbsent(config.topic() + " " + config.url(), k -> new ConcurrentSkipListMap<>());
        kept.headMap(pollSeq, true).clear();  // committed with their offsets
        if (!kept.isEmpty()) {
            settleUntil = System.currentTimeMillis() + SETTLE_MS;
            log.info("HTTP source holding {} poll(s) answered but not seen committed (polls {}..{}) up to {} ms: "
                    + "a commit being completed may yet cover them", kept.size(), kept.firstKey(), kept.lastKey(), SETTLE_MS);
            pollSeq = Math.max(pollSeq, kept.lastKey());
        }
        nextPollAt = System.currentTimeMillis();
        log.info("HTTP source polling {} every {} ms into {} (resuming after poll {})",
                redact(config.url()), config.intervalMs(), config.topic(), pollSeq);
    }

    @Override
    public void commitRecord(SourceRecord record, RecordMetadata metadata) {
        Object seq = record.sourceOffset().get("poll");
        if (seq instanceof Number && kept != null) {
            kept.remove(((Number) seq).longValue());
        }
    }

    /** The last poll whose offset the worker has committed (read to the end again), or -1. */
    private long committedPoll() {
        Map<String, Object> offset = context.offsetStorageReader().offset(sourcePartition);
        return offset != null && offset.get("poll") instanceof Number ? ((Number) offset.get("poll")).longValue() : -1L;
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        if (settleUntil > 0) {
            long committed = committedPoll();
            if (committed >= 0 && !kept.isEmpty() && committed >= kept.firstKey()) {
                log.info("HTTP source: polls up to {} turned out committed; not re-sent", committed);
                kept.headMap(committed, true).clear();
            }
            if (!kept.isEmpty() && System.currentTimeMillis() < settleUntil && !stopping) {
                Thread.sleep(SLEEP_SLICE_MS * 5);
                return null;
            }
            settleUntil = 0;
            if (!kept.isEmpty()) {
                resend = new ArrayList<>(kept.values());
                log.warn("HTTP source re-sending {} poll(s) that were answered but not committed (polls {}..{})",
                        resend.size(), kept.firstKey(), kept.lastKey());
            }
        }
        if (!resend.isEmpty()) {
            List<SourceRecord> again = resend;
            resend = Collections.emptyList();
            return again;
        }
        long wait = nextPollAt - System.currentTimeMillis();
        if (wait > 0) {
            // Return often so the worker can stop or commit between polls.
            Thread.sleep(Math.min(wait, SLEEP_SLICE_MS));
            return null;
        }
        if (stopping) {
            return null;
        }
        long started = System.currentTimeMillis();
        nextPollAt = started + config.intervalMs();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(config.url()))
                .timeout(Duration.ofMillis(config.timeoutMs()))
                .header("Accept", "application/json")
                .GET();
        if (!config.apiKey().isEmpty()) {
            request.header(config.apiKeyHeader(), config.apiKey());
        }
        HttpResponse<byte[]> response;
        try {
            response = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            skipped++;
            log.warn("HTTP poll skipped: {} ({}) (served={}, skipped={})",
                    e.getClass().getSimpleName(), e.getMessage(), served, skipped);
            return null;
        }
        long latency = System.currentTimeMillis() - started;
        int status = response.statusCode();
        if (status < 200 || status >= 300) {
            skipped++;
            long retryAfterMs = retryAfterMs(response);
            if (retryAfterMs > 0) {
                nextPollAt = Math.max(nextPollAt, System.currentTimeMillis() + retryAfterMs);
            }
            log.warn("HTTP poll skipped: status {} after {} ms{} (served={}, skipped={})", status, latency,
                    retryAfterMs > 0 ? ", retry after " + retryAfterMs + " ms" : "", served, skipped);
            return null;
        }
        served++;
        pollSeq++;
        String body = new String(response.body(), StandardCharsets.UTF_8);
        ConnectHeaders headers = new ConnectHeaders();
        headers.addInt("http_status", status);
        headers.addLong("http_latency_ms", latency);
        headers.addLong("poll_seq", pollSeq);
        Map<String, Object> offset = Map.of("poll", pollSeq, "ts", started);
        SourceRecord record = new SourceRecord(sourcePartition, offset, config.topic(), null,
                null, null, Schema.STRING_SCHEMA, body, started, headers);
        kept.put(pollSeq, record);
        while (kept.size() > MAX_KEPT) {
            log.warn("HTTP source dropping kept poll {}: {} polls were never committed", kept.firstKey(), MAX_KEPT);
            kept.pollFirstEntry();
        }
        if (log.isDebugEnabled()) {
            log.debug("HTTP poll {}: status {} in {} ms, {} bytes", pollSeq, status, latency, body.length());
        }
        return Collections.singletonList(record);
    }

    private static long retryAfterMs(HttpResponse<?> response) {
        return response.headers().firstValue("Retry-After").map(v -> {
            try {
                return Long.parseLong(v.trim()) * 1000L;
            } catch (NumberFormatException e) {
                return 0L;
            }
        }).orElse(0L);
    }

    /** Drops the query string from a URL before it is logged (it may carry keys). */
    private static String redact(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q) + "?…";
    }

    @Override
    public void stop() {
        stopping = true;
    }
}
