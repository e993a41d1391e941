package ai.tinyfusion.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict JSON parsing and value checks shared by the safetensors code. */
final class Json {
    private Json() {}

    /** Compact JSON without HTML escaping (so names keep characters like {@code <} as they are). */
    static final Gson COMPACT = new GsonBuilder().disableHtmlEscaping().create();
    /** Indented JSON without HTML escaping. */
    static final Gson PRETTY =
            new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create();

    /** Decodes strict UTF-8 and parses one strict JSON object, with nothing after it. */
    static JsonObject parseObject(byte[] utf8, String what) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IOException(what + " is not valid UTF-8");
        }
        try {
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setStrictness(Strictness.STRICT);
            JsonElement element = read(reader, what, 0);
            JsonToken next;
            try {
                next = reader.peek();
            } catch (IOException e) {
                next = null; // strict mode reports a second top-level value as malformed JSON
            }
            if (next != JsonToken.END_DOCUMENT) {
                throw new IOException(what + " has data after its JSON object");
            }
            if (!element.isJsonObject()) {
                throw new IOException(what + " is not a JSON object");
            }
            return element.getAsJsonObject();
        } catch (StructureException e) {
            throw new IOException(e.getMessage());
        } catch (IOException | JsonParseException | IllegalStateException | NumberFormatException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(what + " ")) {
                throw (e instanceof IOException io) ? io : new IOException(e.getMessage());
            }
            throw new IOException(what + " is not valid JSON: " + e.getMessage());
        }
    }

    /**
     * A structural refusal (a key that appears twice in one object, since readers disagree on which
     * one wins; nesting too deep), reported as it is rather than as invalid JSON.
     */
    private static final class StructureException extends IOException {
        StructureException(String message) {
            super(message);
        }
    }

    /**
     * Deepest nesting accepted: a safetensors header or an index nests 3 deep; a hostile one
     * nested 100,000 deep would overflow the stack of a recursive reader.
     */
    static final int MAX_DEPTH = 64;

    /**
     * One JSON value, refusing an object that names a key twice (Gson would keep the last) and
     * nesting deeper than {@link #MAX_DEPTH}.
     */
    private static JsonElement read(JsonReader reader, String what, int depth) throws IOException {
        JsonToken token = reader.peek();
        if (depth >= MAX_DEPTH && (token == JsonToken.BEGIN_OBJECT || token == JsonToken.BEGIN_ARRAY)) {
            throw new StructureException(what + " nests arrays or objects more than " + MAX_DEPTH + " deep");
        }
        switch (token) {
            case BEGIN_OBJECT -> {
                JsonObject object = new JsonObject();
                reader.beginObject();
                while (reader.hasNext()) {
                    String name = reader.nextName();
                    if (object.has(name)) {
                        throw new StructureException(what + " has the key '" + name + "' twice");
                    }
                    object.add(name, read(reader, what, depth + 1));
                }
                reader.endObject();
                return object;
            }
            case BEGIN_ARRAY -> {
                JsonArray array = new JsonArray();
                reader.beginArray();
                while (reader.hasNext()) {
                    array.add(read(reader, what, depth + 1));
                }
                reader.endArray();
                return array;
            }
            case STRING -> {
                return new JsonPrimitive(reader.nextString());
            }
            case NUMBER -> {
                return new JsonPrimitive(new NumberText(reader.nextString()));
            }
            case BOOLEAN -> {
                return new JsonPrimitive(reader.nextBoolean());
            }
            case NULL -> {
                reader.nextNull();
                return JsonNull.INSTANCE;
            }
            default -> throw new IOException(what + " is not valid JSON: unexpected " + token);
        }
    }

    /** A JSON number kept as its text, so that integers of any size are checked exactly, never rounded. */
    private static final class NumberText extends Number {
        private final String text;

        NumberText(String text) {
            this.text = text;
        }

        @Override
        public int intValue() {
            return (int) longValue();
        }

        @Override
        public long longValue() {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                return (long) doubleValue();
            }
        }

        @Override
        public float floatValue() {
            return (float) doubleValue();
        }

        @Override
        public double doubleValue() {
            return Double.parseDouble(text);
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /** An integral JSON number. */
    static long requireLong(JsonElement e, String what) throws IOException {
        if (e == null || !e.isJsonPrimitive() || !((JsonPrimitive) e).isNumber()) {
            throw new IOException(what + " is not a number");
        }
        try {
            return Long.parseLong(e.getAsString());
        } catch (NumberFormatException ex) {
            throw new IOException(what + " is not an integer: " + e.getAsString());
        }
    }

    /** A JSON string. */
    static String requireString(JsonElement e, String what) throws IOException {
        if (e == null || !e.isJsonPrimitive() || !((JsonPrimitive) e).isString()) {
            throw new IOException(what + " is not a string");
        }
        return e.getAsString();
    }

    /** A JSON object. */
    static JsonObject requireObject(JsonElement e, String what) throws IOException {
        if (e == null || !e.isJsonObject()) {
            throw new IOException(what + " is not a JSON object");
        }
        return e.getAsJsonObject();
    }
}
