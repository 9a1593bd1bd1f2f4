package dev.ferry.it;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of {@code lhosts --hosts --json}: a host as its program manager describes it.
 * {@code idleS} is -1 and {@code whyUnwilling} "" when the line has none.
 */
public record HostView(String host, String address, double load, long freeMem, long guests,
    boolean willing, double idleS, boolean ownerActive, String whyUnwilling) {

  static List<HostView> parseLines(String output) {
    List<HostView> hosts = new ArrayList<>();
    for (String line : output.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      JsonObject o = JsonParser.parseString(line).getAsJsonObject();
      String why = LhView.text(o, "why_unwilling");
      hosts.add(new HostView(LhView.text(o, "host"), LhView.text(o, "address"),
          decimal(o, "load"), LhView.number(o, "free_mem"),
          LhView.number(o, "guests"), bool(o, "willing"), decimal(o, "idle_s"),
          bool(o, "owner_active"), why == null ? "" : why));
    }
    return hosts;
  }

  private static double decimal(JsonObject o, String field) {
    JsonElement e = o.get(field);
    return e == null || e.isJsonNull() ? -1 : e.getAsDouble();
  }

  private static boolean bool(JsonObject o, String field) {
    JsonElement e = o.get(field);
    return e != null && !e.isJsonNull() && e.getAsBoolean();
  }
}
