package dev.ferry.cli;

import dev.ferry.proto.v1.HostStatus;
import java.util.List;

/** How {@code lhosts --hosts} shows the cluster's hosts. */
final class HostFormat {
    static final String[] HEADERS = {"HOST", "ADDRESS", "LOAD", "FREE_MEM", "GUESTS", "WILLING",
        "TRACKER", "IDLE_S", "OWNER_ACTIVE", "WHY_UNWILLING"};

    private HostFormat() {
    }

    static String table(List<HostStatus> hosts) {
        TextTable table = new TextTable(HEADERS);
        for (HostStatus h : hosts) {
            table.add(h.getHost(), h.getAddress(), decimal(h.getLoad(), 100),
                    Long.toUnsignedString(h.getFreeMem()), Integer.toUnsignedString(h.getGuests()),
                    yesNo(h.getWilling()), h.getTracker().isEmpty() ? "-" : h.getTracker(),
                    decimal(h.getIdleS(), 10), yesNo(h.getOwnerActive()),
                    h.getWilling() || h.getWhyUnwilling().isEmpty() ? "-" : h.getWhyUnwilling());
        }
        return table.render();
    }

    static String json(HostStatus h) {
        Json json = new Json()
                .string("host", h.getHost())
                .string("address", h.getAddress())
                .number("load", h.getLoad())
                .unsigned("free_mem", h.getFreeMem())
                .unsigned("guests", Integer.toUnsignedLong(h.getGuests()))
                .bool("willing", h.getWilling())
                .string("tracker", h.getTracker())
                .number("idle_s", h.getIdleS())
                .bool("owner_active", h.getOwnerActive());
        if (!h.getWilling()) {
            json.string("why_unwilling", h.getWhyUnwilling());
        }
        return json.toString();
    }

    private static String yesNo(boolean value) {
        return value ? "yes" : "no";
    }

    /** Rounds to 1/scale without java.util.Formatter (slow to load at first use). */
    static String decimal(double value, int scale) {
        if (!Double.isFinite(value)) {
            return "-";
        }
        int digits = scale == 100 ? 2 : scale == 10 ? 1 : 0;
        long scaled = Math.round(Math.abs(value) * scale);
        String whole = Long.toString(scaled / scale);
        String sign = value < 0 && scaled != 0 ? "-" : "";
        if (digits == 0) {
            return sign + whole;
        }
        String fraction = Long.toString(scaled % scale + scale).substring(1);
        return sign + whole + "." + fraction;
    }
}
