package dev.ferry.it;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;

/** One line of {@code lhosts --hosts --json}: a host as its program manager describes it. */
public record HostView(String host, String address, double load, long freeMem, long guests,
    boolean willing) {

  static List<HostView> parseLines(String output) {
    List<HostView> hosts = new ArrayList<>();
    for (String line : output.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      hosts.add(new HostView(LhView.text(o, "host"), LhView.text(o, "address"),
          o.has("load") ? o.get("load").getAsDouble() : -1, LhView.number(o, "free_mem"),
          LhView.number(o, "guests"), bool(o, "willing")));
    }
    return hosts;
  }

  private static boolean bool(JsonObject o, String field) {
    JsonElement e = o.get(field);
    return e != null && !e.isJsonNull() && e.getAsBoolean();
  }
}
