package dev.ferry.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;

/** One line of {@code lhosts --json}: a logical host and its processes. */
public record LhView(String id, String host, String user, String program, String state,
    List<ProcessView> processes, String json) {

  /** One process of an LH; {@code name} is "LHID.PID". */
  public record ProcessView(String name, long pid, long hostPid, String command, String state) {}

  static List<LhView> parseLines(String output) {
    List<LhView> lhs = new ArrayList<>();
    for (String line : output.split("\n")) {
      if (!line.isBlank()) {
        lhs.add(parse(line));
      }
    }
    return lhs;
  }

  static LhView parse(String line) {
    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
    List<ProcessView> processes = new ArrayList<>();
    JsonElement list = o.get("processes");
    if (list != null && list.isJsonArray()) {
      for (JsonElement e : (JsonArray) list) {
        JsonObject p = e.getAsJsonObject();
        processes.add(new ProcessView(text(p, "name"), number(p, "pid"), number(p, "host_pid"),
            text(p, "command"), text(p, "state")));
      }
    }
    return new LhView(text(o, "id"), text(o, "host"), text(o, "user"), text(o, "program"),
        text(o, "state"), List.copyOf(processes), line);
  }

  /** True when any process's command line mentions {@code token} (tests use unique tokens). */
  public boolean mentions(String token) {
    return json.contains(token);
  }

  static String text(JsonObject o, String field) {
    JsonElement e = o.get(field);
    return e == null || e.isJsonNull() ? null : e.getAsString();
  }

  static long number(JsonObject o, String field) {
    JsonElement e = o.get(field);
    return e == null || e.isJsonNull() ? -1 : e.getAsLong();
  }
}
