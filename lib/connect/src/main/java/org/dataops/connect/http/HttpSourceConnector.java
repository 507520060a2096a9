package org.dataops.connect.http;

import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * Polls one HTTP endpoint on a fixed cadence and writes each successful
 * response body, unchanged, as one record (a string value) to one topic.
 *
 * <p>Non-2xx answers (429 rate limits, 5xx outages) and network errors never
 * fail the task: the poll is skipped, counted and logged, and polling resumes
 * at the next tick (after {@code Retry-After} when the server sends one).
 */
public class HttpSourceConnector extends SourceConnector {

    static final String VERSION = "1.0.0";

    private Map<String, String> props;

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public void start(Map<String, String> props) {
        // Validate eagerly so a wrong config fails the connector with a clear message.
        new HttpSourceConfig(props);
        this.props = props;
    }

    @Override
    public Class<? extends Task> taskClass() {
        return HttpSourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        // One endpoint, one poller: more tasks would only duplicate polls.
        return Collections.singletonList(props);
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return HttpSourceConfig.CONFIG_DEF;
    }

    @Override
    public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
        return ExactlyOnceSupport.SUPPORTED;
    }
}
