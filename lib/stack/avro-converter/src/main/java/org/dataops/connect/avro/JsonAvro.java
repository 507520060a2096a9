package org.dataops.connect.avro;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;

/**
 * A JSON document as the Avro datum of a schema, exactly or not at all: every member must be a
 * field of its record, every field present (or nullable), every value of its field's type. What
 * does not fit raises {@link Unfit} naming the first member that does not, so that the caller can
 * keep the document as it came instead of dropping what the schema cannot carry.
 *
 * <p>Numbers: a JSON number for a {@code double} (so {@code NaN} and {@code Infinity}, which the
 * parser allows as Python's {@code json.dumps} writes them, stay doubles), an integral one that
 * fits for a {@code long} or {@code int}. A record of one field named {@code value} whose type is a
 * map or an array is how the project's schemas wrap a document that is not an object of fixed
 * fields (a poll keyed by coin id): the document is that field's value.
 */
final class JsonAvro {

    /** Why a document does not fit the schema (the message names the member). */
    static final class Unfit extends Exception {
        Unfit(String message) {
            super(message, null, false, false);
        }
    }

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private JsonAvro() {
    }

    /** Whether the schema wraps its document in a one-field record (see the class comment). */
    static boolean wraps(Schema schema) {
        if (schema.getType() != Schema.Type.RECORD || schema.getFields().size() != 1) {
            return false;
        }
        Schema.Field only = schema.getFields().get(0);
        Schema.Type type = only.schema().getType();
        return only.name().equals("value") && (type == Schema.Type.MAP || type == Schema.Type.ARRAY);
    }

    /** The datum of {@code text} in {@code schema}; {@link Unfit} when it is not JSON or does not fit. */
    static Object datum(Schema schema, String text) throws Unfit {
        JsonNode doc;
        try (JsonParser parser = JSON.createParser(text)) {
            doc = JSON.readTree(parser);
            if (doc == null) {
                throw new Unfit("empty value");
            }
            if (parser.nextToken() != null) {
                throw new Unfit("text after the JSON document");
            }
        } catch (JsonProcessingException e) {
            throw new Unfit("not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new Unfit("not JSON: " + e.getMessage());
        }
        if (wraps(schema)) {
            GenericData.Record record = new GenericData.Record(schema);
            record.put(0, value(schema.getFields().get(0).schema(), doc, "$"));
            return record;
        }
        return value(schema, doc, "$");
    }

    private static Object value(Schema schema, JsonNode node, String where) throws Unfit {
        switch (schema.getType()) {
            case NULL:
                if (node.isNull()) {
                    return null;
                }
                break;
            case UNION:
                Unfit last = null;
                for (Schema branch : schema.getTypes()) {
                    if (branch.getType() == Schema.Type.NULL ? node.isNull() : !node.isNull()) {
                        try {
                            return value(branch, node, where);
                        } catch (Unfit e) {
                            last = e;
                        }
                    }
                }
                if (last != null) {
                    throw last;
                }
                break;
            case DOUBLE:
            case FLOAT:
                if (node.isNumber()) {
                    double number = node.doubleValue();
                    return schema.getType() == Schema.Type.DOUBLE ? (Object) number : (Object) (float) number;
                }
                break;
            case LONG:
                if (node.isIntegralNumber() && node.canConvertToLong()) {
                    return node.longValue();
                }
                break;
            case INT:
                if (node.isIntegralNumber() && node.canConvertToInt()) {
                    return node.intValue();
                }
                break;
            case STRING:
                if (node.isTextual()) {
                    return node.textValue();
                }
                break;
            case BOOLEAN:
                if (node.isBoolean()) {
                    return node.booleanValue();
                }
                break;
            case ARRAY:
                if (node.isArray()) {
                    List<Object> items = new ArrayList<>(node.size());
                    for (int i = 0; i < node.size(); i++) {
                        items.add(value(schema.getElementType(), node.get(i), where + "[" + i + "]"));
                    }
                    return items;
                }
                break;
            case MAP:
                if (node.isObject()) {
                    Map<String, Object> map = new LinkedHashMap<>();
                    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                        Map.Entry<String, JsonNode> member = it.next();
                        map.put(member.getKey(), value(schema.getValueType(), member.getValue(), where + "." + member.getKey()));
                    }
                    return map;
                }
                break;
            case RECORD:
                if (node.isObject()) {
                    return record(schema, node, where);
                }
                break;
            default:
                throw new Unfit(where + ": the schema's type " + schema.getType() + " is not written from JSON");
        }
        throw new Unfit(where + ": " + describe(node) + " where the schema has " + schema.getType().getName());
    }

    private static GenericData.Record record(Schema schema, JsonNode node, String where) throws Unfit {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (schema.getField(name) == null) {
                throw new Unfit(where + "." + name + ": a member the schema " + schema.getName() + " does not have");
            }
        }
        GenericData.Record record = new GenericData.Record(schema);
        for (Schema.Field field : schema.getFields()) {
            JsonNode member = node.get(field.name());
            if (member == null) {
                if (!field.hasDefaultValue()) {
                    throw new Unfit(where + "." + field.name() + ": missing");
                }
                record.put(field.pos(), GenericData.get().getDefaultValue(field));
            } else {
                record.put(field.pos(), value(field.schema(), member, where + "." + field.name()));
            }
        }
        return record;
    }

    private static String describe(JsonNode node) {
        return switch (node.getNodeType()) {
            case NULL -> "null";
            case NUMBER -> "the number " + node.asText();
            case STRING -> "a string";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> node.getNodeType().name().toLowerCase();
        };
    }
}
