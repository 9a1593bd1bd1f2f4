package dev.ferry.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The {@code --name value} options of a benchmark's main, with defaults; unknown names fail. */
final class BenchArgs {
  private final Map<String, String> values = new HashMap<>();

  private BenchArgs() {}

  /** Parses {@code args}; only names in {@code defaults} are accepted (an empty default: required). */
  static BenchArgs parse(String[] args, Map<String, String> defaults) {
    BenchArgs parsed = new BenchArgs();
    parsed.values.putAll(defaults);
    for (int i = 0; i < args.length; i++) {
      String name = args[i].startsWith("--") ? args[i].substring(2) : null;
      if (name == null || !defaults.containsKey(name) || i + 1 == args.length) {
        throw new IllegalArgumentException("bad option '" + args[i] + "'; known: " + defaults.keySet());
      }
      parsed.values.put(name, args[++i]);
    }
    for (Map.Entry<String, String> e : parsed.values.entrySet()) {
      if (e.getValue().isEmpty()) {
        throw new IllegalArgumentException("--" + e.getKey() + " is required");
      }
    }
    return parsed;
  }

  String string(String name) {
    return values.get(name);
  }

  int integer(String name) {
    return Integer.parseInt(values.get(name));
  }

  Path path(String name) {
    return Path.of(values.get(name));
  }
}
