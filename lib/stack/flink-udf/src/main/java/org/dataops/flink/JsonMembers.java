package org.dataops.flink;

import java.io.IOException;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonGenerator;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * {@code JSON_MEMBERS(json)}: the members of a JSON object, name to value as JSON text, read in
 * one pass. The explode job calls it once per poll (coin id to entry) and once per coin entry
 * (field to value), where Flink's JSON functions would parse the same text once per path.
 *
 * <p>A value is its JSON text, compact: a number exactly as written ({@code 95000.10},
 * {@code 1e400}), a string quoted and escaped ({@code "NaN"}), an object or array in full. A
 * member whose value is {@code null} maps to SQL NULL, like a missing one. The answer is NULL
 * when the text is NULL, not JSON, or JSON but not an object; text after the object is ignored,
 * as Flink's {@code IS JSON} ignores it. Deterministic, never throws.
 */
@FunctionHint(output = @DataTypeHint("MAP<STRING, STRING>"))
public class JsonMembers extends ScalarFunction {

    private static final JsonFactory JSON = new JsonFactory();

    public Map<String, String> eval(String json) {
        if (json == null) {
            return null;
        }
        try (JsonParser parser = JSON.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            Map<String, String> members = new LinkedHashMap<>();
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                members.put(name, value == JsonToken.VALUE_NULL ? null : text(parser));
            }
            return parser.currentToken() == JsonToken.END_OBJECT ? members : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The JSON text of the value the parser is on (numbers as written), leaving it on its last token. */
    private static String text(JsonParser parser) throws IOException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT) {
            return parser.getText();
        }
        StringWriter out = new StringWriter();
        try (JsonGenerator gen = JSON.createGenerator(out)) {
            int depth = 0;
            while (true) {
                token = parser.currentToken();
                if (token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT) {
                    gen.writeNumber(parser.getText());
                } else {
                    gen.copyCurrentEvent(parser);
                }
                if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                    depth++;
                } else if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
                    depth--;
                }
                if (depth == 0) {
                    break;
                }
                if (parser.nextToken() == null) {
                    throw new IOException("unexpected end of JSON");
                }
            }
        }
        return out.toString();
    }
}
