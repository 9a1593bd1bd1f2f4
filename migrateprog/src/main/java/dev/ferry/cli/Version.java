package dev.ferry.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** The Ferry version this jar was built as (from the pom.properties Maven puts in the jar). */
final class Version {
    private static final String POM_PROPERTIES = "/META-INF/maven/dev.ferry/migrateprog/pom.properties";

    private Version() {
    }

    static String get() {
        try (InputStream in = Version.class.getResourceAsStream(POM_PROPERTIES)) {
            if (in != null) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (line.startsWith("version=")) {
                        return line.substring("version=".length()).trim();
                    }
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "unknown";
    }
}
