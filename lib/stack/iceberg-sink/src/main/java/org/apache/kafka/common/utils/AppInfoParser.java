package org.apache.kafka.common.utils;

import java.io.InputStream;
import java.util.Properties;

/**
 * Compatibility shim for the Iceberg sink on Kafka Connect 4.4.
 *
 * <p>Kafka 4.4 moved {@code AppInfoParser} to {@code org.apache.kafka.common.utils.internals},
 * while iceberg-kafka-connect 1.12.0 still calls {@code AppInfoParser.getVersion()} when its
 * task starts. This class lives only in the Iceberg plugin folder: Connect's plugin class
 * loader asks the worker first, finds nothing, and loads it from here. It reads the version
 * resource of kafka-clients and references no Kafka class.
 */
public final class AppInfoParser {

    private AppInfoParser() {
    }

    public static String getVersion() {
        return property("version");
    }

    public static String getCommitId() {
        return property("commitId");
    }

    private static String property(String key) {
        try (InputStream in = AppInfoParser.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            Properties props = new Properties();
            if (in != null) {
                props.load(in);
            }
            return props.getProperty(key, "unknown").trim();
        } catch (Exception e) {
            return "unknown";
        }
    }
}
