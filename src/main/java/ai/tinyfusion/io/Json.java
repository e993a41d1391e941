package ai.tinyfusion.io;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
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
            JsonElement element = JsonParser.parseReader(reader);
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
        } catch (JsonParseException | IllegalStateException e) {
            throw new IOException(what + " is not valid JSON: " + e.getMessage());
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
