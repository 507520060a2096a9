package org.dataops.connect.transforms;

import static java.time.format.DateTimeFormatter.ISO_LOCAL_DATE_TIME;

import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Fails, in the transform stage, a record whose timestamp fields the Iceberg sink could not read.
 *
 * <p>The Iceberg sink (1.12) converts a {@code timestamptz} field inside its {@code put()}, where
 * Kafka Connect's {@code errors.tolerance} does not reach: one unreadable value there stops the
 * task, and materialisation with it. This transform reads each configured field as the sink's
 * {@code RecordConverter} would (a number, a date-time object, or text in its ISO forms) and
 * throws a {@link DataException} for any other value, so Connect sends the record to the dead
 * letter queue with the reason and the sink goes on. A readable record passes unchanged.
 *
 * <p>Config: {@code fields}, the comma-separated names of the {@code timestamptz} columns.
 */
public class TimestampGuard<R extends ConnectRecord<R>> implements Transformation<R> {

    public static final String FIELDS = "fields";

    private static final ConfigDef CONFIG = new ConfigDef()
            .define(FIELDS, ConfigDef.Type.LIST, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.Importance.HIGH,
                    "the timestamptz fields the Iceberg sink converts");

    // The sink's own text format: ISO local date-time, then an offset written +HHmm or Z.
    private static final DateTimeFormatter OFFSET_TIMESTAMP = new DateTimeFormatterBuilder()
            .append(ISO_LOCAL_DATE_TIME).appendOffset("+HHmm", "Z").toFormatter(Locale.ROOT);

    private List<String> fields = List.of();

    @Override
    public void configure(Map<String, ?> props) {
        fields = new AbstractConfig(CONFIG, props).getList(FIELDS);
    }

    @Override
    public R apply(R record) {
        Object value = record.value();
        if (value instanceof Map<?, ?> map) {
            for (String field : fields) {
                check(field, map.get(field));
            }
        } else if (value instanceof Struct struct) {
            for (String field : fields) {
                if (struct.schema().field(field) != null) {
                    check(field, struct.get(field));
                }
            }
        }
        return record;
    }

    static void check(String field, Object value) {
        if (value == null || value instanceof Number || value instanceof Date
                || value instanceof OffsetDateTime || value instanceof LocalDateTime) {
            return;
        }
        if (value instanceof String text) {
            try {
                parse(text);
                return;
            } catch (RuntimeException e) {
                throw new DataException("field " + field + ": '" + text + "' is not a timestamp the Iceberg sink can read ("
                        + e.getMessage() + ")");
            }
        }
        throw new DataException("field " + field + ": a " + value.getClass().getSimpleName()
                + " is not a timestamp the Iceberg sink can read");
    }

    /** The instant, read as the Iceberg sink 1.12 reads a timestamptz string (throws when it cannot). */
    static OffsetDateTime parse(String text) {
        String iso = normalise(text);
        try {
            return OFFSET_TIMESTAMP.parse(iso, OffsetDateTime::from);
        } catch (DateTimeParseException e) {
            return LocalDateTime.parse(iso, ISO_LOCAL_DATE_TIME).atOffset(ZoneOffset.UTC);
        }
    }

    /** A space between date and time becomes 'T'; an offset written +HH:mm becomes +HHmm. */
    static String normalise(String text) {
        String iso = text;
        if (iso.charAt(10) == ' ') {
            iso = iso.substring(0, 10) + "T" + iso.substring(11);
        }
        int sign = -1;
        for (int i = 19; i < iso.length(); i++) {
            char c = iso.charAt(i);
            if (c == '+' || c == '-') {
                sign = i;
                break;
            }
        }
        if (sign != -1 && sign + 3 < iso.length() && iso.charAt(sign + 3) == ':') {
            iso = iso.substring(0, sign + 3) + iso.substring(sign + 4);
        }
        return iso;
    }

    @Override
    public ConfigDef config() {
        return CONFIG;
    }

    @Override
    public void close() {
    }
}
