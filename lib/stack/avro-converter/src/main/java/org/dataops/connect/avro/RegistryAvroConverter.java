package org.dataops.connect.avro;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.storage.Converter;

/**
 * Reads values in Confluent's Avro wire format (byte 0, the writer schema's 4-byte id, the Avro
 * body) for the Iceberg sink, with the writer schema fetched from a Confluent-compatible Schema
 * Registry ({@code GET /schemas/ids/{id}}, once per id) and decoded by Apache Avro.
 *
 * <p>The value handed on is schemaless, a {@code Map} of the record's fields (nested records as
 * maps, Avro strings as Java strings), as {@code JsonConverter} with {@code schemas.enable=false}
 * gives it: the sink writes it by the table's own schema either way. A value that is not in the
 * wire format, or that its schema cannot decode, is a {@link DataException}: with
 * {@code errors.tolerance=all} Connect sends it to the dead letter queue and goes on.
 *
 * <p>Settings ({@code value.converter.} in a connector's config): {@code schema.registry.url}, and
 * {@code basic.auth.user.info} ({@code key:secret}; name it through a config provider, e.g.
 * {@code ${file:/path:user.info}}, so the connector's config holds no secret). It only reads:
 * writing (a source connector's values) is refused.
 */
public final class RegistryAvroConverter implements Converter {

    public static final String URL = "schema.registry.url";
    public static final String USER_INFO = "basic.auth.user.info";
    private static final byte MAGIC = 0;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<Integer, Schema> schemas = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String url;
    private String authorization;

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
    }

    @Override
    public byte[] fromConnectData(String topic, org.apache.kafka.connect.data.Schema schema, Object value) {
        throw new DataException("RegistryAvroConverter only reads values (it is the Iceberg sink's converter)");
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
