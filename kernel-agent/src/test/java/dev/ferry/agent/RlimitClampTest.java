package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RlimitClampTest {
    static final String LIMITS = """
            Limit                     Soft Limit           Hard Limit           Units     
            Max cpu time              unlimited            unlimited            seconds   
            Max file size             unlimited            unlimited            bytes     
            Max data size             unlimited            unlimited            bytes     
            Max stack size            8388608              unlimited            bytes     
            Max core file size        0                    unlimited            bytes     
            Max resident set          unlimited            unlimited            bytes     
            Max processes             96365                96365                processes 
            Max open files            20000                20000                files     
            Max locked memory         8388608              8388608              bytes     
            Max address space         unlimited            unlimited            bytes     
            Max file locks            unlimited            unlimited            locks     
            Max pending signals       96365                96365                signals   
            Max msgqueue size         819200               819200               bytes     
            Max nice priority         0                    0                    
            Max realtime priority     0                    0                    
            Max realtime timeout      unlimited            unlimited            us        
            """;

    @Test
    void parsesHardLimitsAndCapabilities() {
        long[] hard = HostLimits.parseHardLimits(LIMITS);
        assertEquals(20000, hard[RlimitSpec.NOFILE]);
        assertEquals(RlimitSpec.INFINITY, hard[RlimitSpec.STACK]);
        assertEquals(0, hard[13]);
        assertFalse(HostLimits.hasCapability("Name:\tx\nCapEff:\t000001fffeffffff\n", 24));
        assertTrue(HostLimits.hasCapability("Name:\tx\nCapEff:\t000001ffffffffff\n", 24));
    }

    @Test
    void withoutCapSysResourceOwnHardLimitsAreTheCeiling() {
        HostLimits host = HostLimits.of(1_048_576, HostLimits.parseHardLimits(LIMITS));
        List<String> warnings = new ArrayList<>();
        List<RlimitSpec> out = RlimitClamp.clamp(List.of(
                new RlimitSpec(RlimitSpec.NOFILE, RlimitSpec.INFINITY, RlimitSpec.INFINITY),
                new RlimitSpec(RlimitSpec.STACK, 1 << 20, RlimitSpec.INFINITY),
                new RlimitSpec(RlimitSpec.CORE, 0, 0)), warnings, host);
        assertEquals(List.of(new RlimitSpec(RlimitSpec.NOFILE, 20000, 20000),
                new RlimitSpec(RlimitSpec.STACK, 1 << 20, RlimitSpec.INFINITY),
                new RlimitSpec(RlimitSpec.CORE, 0, 0)), out);
        assertEquals(List.of(
                "Max open files: hard limit unlimited lowered to 20000, the most this host allows",
                "Max open files: soft limit unlimited lowered to the hard limit 20000"), warnings);
    }

    @Test
    void withCapSysResourceOnlyTheKernelCeilingApplies() {
        HostLimits host = HostLimits.of(1_048_576, null);
        List<String> warnings = new ArrayList<>();
        assertEquals(List.of(new RlimitSpec(RlimitSpec.NOFILE, 50_000, 1_048_576), new RlimitSpec(RlimitSpec.NPROC, 5, 5)),
                RlimitClamp.clamp(List.of(new RlimitSpec(RlimitSpec.NOFILE, 50_000, 2_000_000),
                        new RlimitSpec(RlimitSpec.NPROC, 10, 5)), warnings, host));
        assertEquals(2, warnings.size());
    }

    @Test
    void theRealHostAllowsItsOwnLimits() {
        List<String> warnings = new ArrayList<>();
        List<RlimitSpec> same = List.of(new RlimitSpec(RlimitSpec.NOFILE, 64, 128));
        assertEquals(same, RlimitClamp.clamp(same, warnings));
        assertEquals(List.of(), warnings);
    }
}
