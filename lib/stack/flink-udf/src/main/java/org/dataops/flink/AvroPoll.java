package org.dataops.flink;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Collection;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.avro.shaded.org.apache.avro.Schema;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericDatumReader;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericEnumSymbol;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericFixed;
import org.apache.flink.avro.shaded.org.apache.avro.generic.GenericRecord;
import org.apache.flink.avro.shaded.org.apache.avro.io.DecoderFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonGenerator;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * {@code AVRO_POLL(value, registry_url, login_file)}: a raw-topic value as the poll's JSON text, for
 * the explode job when the raw topic is in Avro ({@code DATAOPS_TOPIC_FORMAT=avro}), so that the
 * rest of the job reads the poll as it reads it in JSON. Returns {@code ROW(poll, decode_error)}.
 *
 * <ul>
 *   <li>A value in Confluent's wire format (byte 0, the writer schema's id, the Avro body) is decoded
 *       with its writer schema, fetched from the registry once per id, and written as JSON: records
 *       and maps as objects, a record of one field {@code value} holding a map or an array (how the
 *       project wraps a poll keyed by coin id) as that field, a non-finite double as the string
 *       {@code "NaN"} or {@code "Infinity"} (the job's checks read it as non-finite).</li>
 *   <li>Any other value is the JSON text as the HTTP source kept it (a poll the schema could not
 *       carry, see the project's converter) or as a replay wrote it: returned as it is, UTF-8.</li>
 *   <li>A wire-format value the registry has no schema for, or that does not decode with it:
 *       {@code poll} is the value in base64 and {@code decode_error} says why (the job sends it to the
 *       dead letters). A registry that cannot be reached throws: the job restarts until it can.</li>
 * </ul>
 *
 * <p>The login is read from {@code login_file} (a properties file, {@code user.info=key:secret},
 * the one Connect's config provider reads), so no secret is in the job's SQL or plan; an empty
 * name: no login.
 */
@FunctionHint(output = @DataTypeHint("ROW<poll STRING, decode_error STRING>"))
public class AvroPoll extends ScalarFunction {

    private static final JsonFactory JSON = new JsonFactory();
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Map<String, Schema> SCHEMAS = new ConcurrentHashMap<>();  // "<url> <id>" -> the writer's

    private transient HttpClient http;

    public Row eval(byte[] value, String registryUrl, String loginFile) {
        if (value == null) {
            return Row.of(null, null);
        }
        if (value.length < 5 || value[0] != 0) {
            return Row.of(new String(value, StandardCharsets.UTF_8), null);
        }
        int id = ByteBuffer.wrap(value, 1, 4).getInt();
        Schema writer = SCHEMAS.get(registryUrl + " " + id);
        if (writer == null) {
            String text = fetch(registryUrl, loginFile, id);
            if (text == null) {
                return Row.of(Base64.getEncoder().encodeToString(value), "the Schema Registry has no schema with id " + id);
            }
            try {
                writer = new Schema.Parser().parse(text);
            } catch (RuntimeException e) {
                return Row.of(Base64.getEncoder().encodeToString(value), "schema id " + id + " is not an Avro schema: " + e.getMessage());
            }
            SCHEMAS.put(registryUrl + " " + id, writer);
        }
        try {
            Object datum = new GenericDatumReader<Object>(writer)
                    .read(null, DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null));
            if (datum instanceof GenericRecord record && wraps(record.getSchema())) {
                datum = record.get(0);
            }
            StringWriter out = new StringWriter(value.length * 3);
            try (JsonGenerator gen = JSON.createGenerator(out)) {
                write(gen, datum);
            }
            return Row.of(out.toString(), null);
        } catch (IOException | RuntimeException e) {
            return Row.of(Base64.getEncoder().encodeToString(value), "does not decode with schema id " + id + ": " + e);
        }
    }

    /** A record of one field named {@code value} holding a map or an array: the project's wrapping. */
    static boolean wraps(Schema schema) {
        if (schema.getType() != Schema.Type.RECORD || schema.getFields().size() != 1) {
            return false;
        }
        Schema.Field only = schema.getFields().get(0);
        Schema.Type type = only.schema().getType();
        return only.name().equals("value") && (type == Schema.Type.MAP || type == Schema.Type.ARRAY);
    }

    /** The schema text of {@code id} (null: the registry has none); throws when the registry cannot answer. */
    private String fetch(String registryUrl, String loginFile, int id) {
        if (http == null) {
            http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        }
        String where = registryUrl.replaceAll("/+$", "");
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(where + "/schemas/ids/" + id))
                .timeout(Duration.ofSeconds(10)).header("Accept", "application/vnd.schemaregistry.v1+json").GET();
        String login = login(loginFile);
        if (login != null) {
            request.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(login.getBytes(StandardCharsets.UTF_8)));
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 404) {
                return null;
            }
            if (response.statusCode() != 200) {
                throw new IllegalStateException("the Schema Registry at " + where + " answered " + response.statusCode()
                        + " for schema id " + id + (response.statusCode() == 401 ? ": check its login in " + loginFile : ""));
            }
            JsonNode body = MAPPER.readTree(response.body());
            return body.get("schema").asText();
        } catch (IOException e) {
            throw new IllegalStateException("the Schema Registry at " + where + " could not be read for schema id " + id + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fetching schema id " + id, e);
        }
    }

    private static String login(String loginFile) {
        if (loginFile == null || loginFile.isBlank()) {
            return null;
        }
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(loginFile))) {
            props.load(in);
        } catch (IOException e) {
            throw new IllegalStateException("the registry's login file " + loginFile + " could not be read: " + e, e);
        }
        return props.getProperty("user.info");
    }

    private static void write(JsonGenerator gen, Object value) throws IOException {
        if (value == null) {
            gen.writeNull();
        } else if (value instanceof GenericRecord record) {
            gen.writeStartObject();
            for (Schema.Field field : record.getSchema().getFields()) {
                gen.writeFieldName(field.name());
                write(gen, record.get(field.pos()));
            }
            gen.writeEndObject();
        } else if (value instanceof Map<?, ?> map) {
            gen.writeStartObject();
            for (Map.Entry<?, ?> member : map.entrySet()) {
                gen.writeFieldName(member.getKey().toString());
                write(gen, member.getValue());
            }
            gen.writeEndObject();
        } else if (value instanceof Collection<?> items) {
            gen.writeStartArray();
            for (Object item : items) {
                write(gen, item);
            }
            gen.writeEndArray();
        } else if (value instanceof Double number) {
            if (number.isNaN() || number.isInfinite()) {
                gen.writeString(number.isNaN() ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
            } else {
                gen.writeNumber(number);
            }
        } else if (value instanceof Float number) {
            write(gen, number.doubleValue());
        } else if (value instanceof Long || value instanceof Integer) {
            gen.writeNumber(((Number) value).longValue());
        } else if (value instanceof Boolean bool) {
            gen.writeBoolean(bool);
        } else if (value instanceof ByteBuffer bytes) {
            byte[] out = new byte[bytes.remaining()];
            bytes.duplicate().get(out);
            gen.writeBinary(out);
        } else if (value instanceof GenericFixed fixed) {
            gen.writeBinary(fixed.bytes());
        } else if (value instanceof CharSequence || value instanceof GenericEnumSymbol<?>) {
            gen.writeString(value.toString());
        } else {
            gen.writeString(value.toString());
        }
    }
}
