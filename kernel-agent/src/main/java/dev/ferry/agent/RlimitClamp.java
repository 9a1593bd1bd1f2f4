package dev.ferry.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes requested resource limits fit this host: a hard limit above what the host allows (see
 * {@link HostLimits}) is lowered to it, and a soft limit above its hard limit is lowered to the
 * hard limit. Every change adds one line to the warnings, so the user learns what was applied.
 */
public final class RlimitClamp {
    private RlimitClamp() {}

    public static List<RlimitSpec> clamp(List<RlimitSpec> wanted, List<String> warningsOut) {
        try {
            return clamp(wanted, warningsOut, HostLimits.read(Path.of("/proc")));
        } catch (IOException e) {
            throw new UncheckedIOException("reading this host's resource limits", e);
        }
    }

    static List<RlimitSpec> clamp(List<RlimitSpec> wanted, List<String> warningsOut, HostLimits host) {
        List<RlimitSpec> out = new ArrayList<>(wanted.size());
        for (RlimitSpec spec : wanted) {
            long max = host.maxHard(spec.resource());
            long hard = spec.hard();
            if (Long.compareUnsigned(hard, max) > 0) {
                warningsOut.add(spec.name() + ": hard limit " + RlimitSpec.format(hard) + " lowered to "
                        + RlimitSpec.format(max) + ", the most this host allows");
                hard = max;
            }
            long soft = spec.soft();
            if (Long.compareUnsigned(soft, hard) > 0) {
                warningsOut.add(spec.name() + ": soft limit " + RlimitSpec.format(soft) + " lowered to the hard limit "
                        + RlimitSpec.format(hard));
                soft = hard;
            }
            out.add(new RlimitSpec(spec.resource(), soft, hard));
        }
        return out;
    }
}
