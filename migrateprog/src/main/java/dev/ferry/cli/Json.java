package dev.ferry.cli;

import java.util.List;

/**
 * Writes one flat JSON object, key by key, without a JSON library (the commands must start
 * fast and load few classes). Keys are written as given; strings are escaped per RFC 8259.
 */
final class Json {
    private final StringBuilder out = new StringBuilder("{");

    Json string(String key, String value) {
        key(key);
        quote(out, value);
        return this;
    }

    Json number(String key, long value) {
        key(key).append(value);
        return this;
    }

    Json unsigned(String key, long value) {
        key(key).append(Long.toUnsignedString(value));
        return this;
    }

    Json unsignedList(String key, List<Long> values) {
        key(key).append('[');
        for (int i = 0; i < values.size(); i++) {
            out.append(i > 0 ? "," : "").append(Long.toUnsignedString(values.get(i)));
        }
        out.append(']');
        return this;
    }

    /** Non-finite numbers have no JSON form; they are written as null. */
    Json number(String key, double value) {
        key(key).append(Double.isFinite(value) ? Double.toString(value) : "null");
        return this;
    }

    Json bool(String key, boolean value) {
        key(key).append(value);
        return this;
    }

    Json strings(String key, List<String> values) {
        key(key).append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            quote(out, values.get(i));
        }
        out.append(']');
        return this;
    }

    /** An array of objects already written by other Json builders. */
    Json objects(String key, List<Json> values) {
        key(key).append('[');
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                out.append(',');
            }
            out.append(values.get(i));
        }
        out.append(']');
        return this;
    }

    @Override
    public String toString() {
        return out + "}";
    }

    private StringBuilder key(String key) {
        if (out.length() > 1) {
            out.append(',');
        }
        quote(out, key);
        return out.append(':');
    }

    static String quote(String value) {
        StringBuilder sb = new StringBuilder(value.length() + 2);
        quote(sb, value);
        return sb.toString();
    }

    static void quote(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    // Other control characters, and the line separators JavaScript rejects.
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c)
                            && !isPairedSurrogate(value, i)) {
                        out.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf])
                                .append(HEX[c >> 4 & 0xf]).append(HEX[c & 0xf]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean isPairedSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();
}
