package org.dataops.connect.avro;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.storage.Converter;

/**
 * Confluent's Avro wire format (byte 0, the writer schema's 4-byte id, the Avro body) with a
 * Confluent-compatible Schema Registry, for the project's connectors: the Iceberg sink reads the
 * exploded topic with it, and the HTTP source writes its polls to the raw topic with it.
 *
 * <p><b>Reading</b> ({@link #toConnectData}): the writer schema fetched from the registry
 * ({@code GET /schemas/ids/{id}}, once per id) and decoded by Apache Avro. The value handed on is
 * schemaless, a {@code Map} of the record's fields (nested records as maps, Avro strings as Java
 * strings), as {@code JsonConverter} with {@code schemas.enable=false} gives it: the sink writes it
 * by the table's own schema either way. A value that is not in the wire format, or that its schema
 * cannot decode, is a {@link DataException}: with {@code errors.tolerance=all} Connect sends it to
 * the dead letter queue and goes on.
 *
 * <p><b>Writing</b> ({@link #fromConnectData}, when {@code avro.schema} is set): the value is a JSON
 * document (the HTTP source's poll body), written as the datum of that schema ({@link JsonAvro}),
 * which is registered under the topic's {@code <topic>-value} subject at its first use (the
 * registry gives the id; an identical schema keeps its id). A document the schema cannot carry (a
 * coin missing a field, a price that is a string, a member the contract does not know) is written
 * as it came, its JSON text, not in the wire format, with the header {@value #NOT_AVRO_HEADER}
 * saying why: a source connector has no dead letter queue, and the explode job sends such a poll
 * through the same checks as in the JSON profile, so nothing the API answered is dropped. A
 * registry that cannot be reached is a {@link RetriableException} (Connect retries the record as
 * {@code errors.retry.timeout} says); one that refuses the login or the schema a
 * {@link DataException} naming it.
 *
 * <p>Settings ({@code value.converter.} in a connector's config): {@code schema.registry.url},
 * {@code basic.auth.user.info} ({@code key:secret}; name it through a config provider, e.g.
 * {@code ${file:/path:user.info}}, so the connector's config holds no secret), and, to write,
 * {@code avro.schema} (the Avro schema's JSON).
 */
public final class RegistryAvroConverter implements Converter {

    public static final String URL = "schema.registry.url";
    public static final String USER_INFO = "basic.auth.user.info";
    public static final String SCHEMA = "avro.schema";
    /** The header on a value written as its JSON text because the schema cannot carry it (its value: why). */
    public static final String NOT_AVRO_HEADER = "dataops.not-avro";
    private static final byte MAGIC = 0;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<Integer, Schema> schemas = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String url;
    private String authorization;
    private Schema writer;
    private final Map<String, Integer> ids = new ConcurrentHashMap<>();

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        Object where = configs.get(URL);
        if (where == null || where.toString().isBlank()) {
            throw new ConfigException(URL, where, "the Schema Registry's URL is required");
        }
        url = where.toString().replaceAll("/+$", "");
        Object login = configs.get(USER_INFO);
        authorization = login == null || login.toString().isBlank() ? null
                : "Basic " + Base64.getEncoder().encodeToString(login.toString().getBytes(StandardCharsets.UTF_8));
        Object schema = configs.get(SCHEMA);
        if (schema != null && !schema.toString().isBlank()) {
            try {
                writer = new Schema.Parser().parse(schema.toString());
            } catch (RuntimeException e) {
                throw new ConfigException(SCHEMA, "(the schema)", "not an Avro schema: " + e.getMessage());
            }
        }
    }

    @Override
    public byte[] fromConnectData(String topic, org.apache.kafka.connect.data.Schema schema, Object value) {
        return fromConnectData(topic, null, schema, value);
    }

    @Override
    public byte[] fromConnectData(String topic, Headers headers, org.apache.kafka.connect.data.Schema schema, Object value) {
        if (writer == null) {
            throw new DataException("RegistryAvroConverter writes values only with " + SCHEMA + " set (the schema to write)");
        }
        if (value == null) {
            return null;
        }
        String text = value instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : value.toString();
        Object datum;
        try {
            datum = JsonAvro.datum(writer, text);
        } catch (JsonAvro.Unfit unfit) {
            if (headers != null) {
                headers.add(NOT_AVRO_HEADER, unfit.getMessage().getBytes(StandardCharsets.UTF_8));
            }
            return text.getBytes(StandardCharsets.UTF_8);
        }
        int id = ids.computeIfAbsent(topic, this::register);
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + text.length() / 2);
        out.write(MAGIC);
        out.writeBytes(ByteBuffer.allocate(4).putInt(id).array());
        try {
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            new GenericDatumWriter<Object>(writer).write(datum, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new DataException("a value of " + topic + " could not be written in Avro: " + e, e);
        }
        return out.toByteArray();
    }

    /** Registers the writer schema under the topic's subject: its id (the same id for the same schema). */
    private int register(String topic) {
        String subject = topic + "-value";
        String body;
        try {
            body = JSON.writeValueAsString(Map.of("schema", writer.toString()));
        } catch (IOException e) {
            throw new DataException("the schema could not be written as JSON: " + e, e);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + "/subjects/" + subject + "/versions"))
                .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new RetriableException("the Schema Registry at " + url + " could not be reached to register " + subject + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RetriableException("interrupted while registering " + subject, e);
        }
        int status = response.statusCode();
        if (status == 401 || status == 403) {
            throw new DataException("the Schema Registry at " + url + " refused the login (" + status + "): check the registry's key and secret");
        }
        if (status >= 500 || status == 408 || status == 429) {
            throw new RetriableException("the Schema Registry at " + url + " answered " + status + " registering " + subject);
        }
        try {
            JsonNode answer = JSON.readTree(response.body());
            if (status != 200 || answer == null || !answer.has("id")) {
                throw new DataException("the Schema Registry at " + url + " refused the schema of " + subject + " (" + status + "): "
                        + (answer != null && answer.has("message") ? answer.get("message").asText() : response.body()));
            }
            return answer.get("id").asInt();
        } catch (IOException e) {
            throw new DataException("the Schema Registry at " + url + " answered " + status + " with no JSON registering " + subject, e);
        }
    }

    @Override
    public SchemaAndValue toConnectData(String topic, byte[] value) {
        if (value == null) {
            return SchemaAndValue.NULL;
        }
        if (value.length < 5 || value[0] != MAGIC) {
            throw new DataException("a value of " + topic + " is not in Confluent's Avro wire format (no magic byte 0 and schema id)");
        }
        int id = ByteBuffer.wrap(value, 1, 4).getInt();
        Schema writer = schemas.computeIfAbsent(id, this::fetch);
        try {
            Object decoded = new GenericDatumReader<Object>(writer)
                    .read(null, DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null));
            return new SchemaAndValue(null, plain(decoded));
        } catch (IOException | RuntimeException e) {
            throw new DataException("a value of " + topic + " does not decode with schema id " + id + ": " + e, e);
        }
    }

    private Schema fetch(int id) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + "/schemas/ids/" + id))
                .timeout(Duration.ofSeconds(10)).header("Accept", "application/vnd.schemaregistry.v1+json").GET();
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new DataException("the Schema Registry at " + url + " answered " + response.statusCode() + " for schema id " + id);
            }
            JsonNode body = JSON.readTree(response.body());
            return new Schema.Parser().parse(body.get("schema").asText());
        } catch (IOException e) {
            throw new DataException("the Schema Registry at " + url + " could not be read for schema id " + id + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataException("interrupted while fetching schema id " + id, e);
        }
    }

    /** An Avro datum as plain Java values: records and maps as maps, arrays as lists, strings as strings. */
    static Object plain(Object value) {
        if (value instanceof GenericRecord record) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Schema.Field field : record.getSchema().getFields()) {
                out.put(field.name(), plain(record.get(field.pos())));
            }
            return out;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(k.toString(), plain(v)));
            return out;
        }
        if (value instanceof Collection<?> items) {
            List<Object> out = new ArrayList<>(items.size());
            items.forEach(item -> out.add(plain(item)));
            return out;
        }
        if (value instanceof CharSequence || value instanceof GenericEnumSymbol<?>) {
            return value.toString();
        }
        if (value instanceof ByteBuffer bytes) {
            byte[] out = new byte[bytes.remaining()];
            bytes.duplicate().get(out);
            return out;
        }
        if (value instanceof GenericFixed fixed) {
            return fixed.bytes().clone();
        }
        return value;
    }
}
