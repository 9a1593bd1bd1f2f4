package dev.ferry.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The harness's reading of {@code lhosts --json} lines (the documented field names). */
class LhViewTest {

  @Test
  void readsAnLhWithItsProcesses() {
    String line = "{\"id\":\"7f3a\",\"host\":\"h2\",\"user\":\"root\",\"program\":\"sleep\","
        + "\"state\":\"stopped\",\"processes\":[{\"name\":\"7f3a.2\",\"pid\":2,"
        + "\"host_pid\":41234,\"command\":\"sleep 41.000123\",\"state\":\"stopped\"}]}";
    List<LhView> lhs = LhView.parseLines(line + "\n\n");
    assertEquals(1, lhs.size());
    LhView lh = lhs.get(0);
    assertEquals("7f3a", lh.id());
    assertEquals("h2", lh.host());
    assertEquals("stopped", lh.state());
    assertEquals(new LhView.ProcessView("7f3a.2", 2, 41234, "sleep 41.000123", "stopped"),
        lh.processes().get(0));
    assertTrue(lh.mentions("41.000123"));
    assertEquals("7f3a.2", SignalsIT.mainProcess(lh).name());
  }

  @Test
  void missingFieldsReadAsNullOrMinusOne() {
    LhView lh = LhView.parse("{\"id\":\"a\"}");
    assertEquals(null, lh.host());
    assertEquals(List.of(), lh.processes());
  }

  @Test
  void readsHostStatusLines() {
    List<HostView> hosts = HostView.parseLines(
        "{\"host\":\"h1\",\"address\":\"198.18.0.1:7350\",\"load\":0.25,\"free_mem\":1048576,"
            + "\"guests\":1,\"willing\":true}\n"
            + "{\"host\":\"h2\",\"address\":\"198.18.0.2:7350\",\"load\":1,\"free_mem\":5,"
            + "\"guests\":0,\"willing\":false,\"idle_s\":0.4,\"owner_active\":true,"
            + "\"why_unwilling\":\"owner active\"}\n");
    assertEquals(new HostView("h1", "198.18.0.1:7350", 0.25, 1048576, 1, true, -1, false, ""),
        hosts.get(0));
    assertEquals(new HostView("h2", "198.18.0.2:7350", 1.0, 5, 0, false, 0.4, true,
        "owner active"), hosts.get(1));
  }
}
