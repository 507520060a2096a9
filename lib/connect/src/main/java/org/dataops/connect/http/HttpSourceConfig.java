package org.dataops.connect.http;

import java.util.Map;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.types.Password;

/** Configuration of {@link HttpSourceConnector}. */
public class HttpSourceConfig extends AbstractConfig {

    public static final String URL = "http.url";
    public static final String INTERVAL_MS = "http.poll.interval.ms";
    public static final String TIMEOUT_MS = "http.timeout.ms";
    public static final String API_KEY = "http.api.key";
    public static final String API_KEY_HEADER = "http.api.key.header";
    public static final String TOPIC = "kafka.topic";

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(URL, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
                    Importance.HIGH, "URL polled with GET, query string included.")
            .define(INTERVAL_MS, Type.LONG, 5000L, ConfigDef.Range.atLeast(100L),
                    Importance.HIGH, "Time between two polls, in milliseconds.")
            .define(TIMEOUT_MS, Type.LONG, 10000L, ConfigDef.Range.atLeast(100L),
                    Importance.MEDIUM, "Connect + read timeout of one poll, in milliseconds.")
            .define(API_KEY, Type.PASSWORD, "", Importance.MEDIUM,
                    "API key sent in the header named by http.api.key.header (empty: none).")
            .define(API_KEY_HEADER, Type.STRING, "x-cg-demo-api-key", Importance.LOW,
                    "Header that carries the API key.")
            .define(TOPIC, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyString(),
                    Importance.HIGH, "Topic the response bodies are written to.");

    public HttpSourceConfig(Map<String, String> props) {
        super(CONFIG_DEF, props);
    }

    String url() {
        return getString(URL);
    }

    long intervalMs() {
        return getLong(INTERVAL_MS);
    }

    long timeoutMs() {
        return getLong(TIMEOUT_MS);
    }

    String apiKey() {
        Password p = getPassword(API_KEY);
        return p == null ? "" : p.value();
    }

    String apiKeyHeader() {
        return getString(API_KEY_HEADER);
    }

    String topic() {
        return getString(TOPIC);
    }
}
