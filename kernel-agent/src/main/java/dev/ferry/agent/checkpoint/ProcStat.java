package dev.ferry.agent.checkpoint;

import dev.ferry.proto.v1.MmFields;

/** The fields of /proc/PID/stat a capture needs (field numbers as in proc(5), 1-based). */
final class ProcStat {
    private final String[] fields;   // fields[0] is field 3 (state): what follows "(comm) "

    private ProcStat(String[] fields) {
        this.fields = fields;
    }

    static ProcStat parse(String text) {
        return new ProcStat(text.substring(text.lastIndexOf(')') + 2).strip().split(" "));
    }

    long field(int number) {
        return Long.parseLong(fields[number - 3]);
    }

    int ppid() {
        return (int) field(4);
    }

    int pgrp() {
        return (int) field(5);
    }

    int nice() {
        return (int) field(19);
    }

    /** The mm fields /proc has; brk is not among them (the caller injects brk(0)). */
    MmFields.Builder mmFields() {
        return MmFields.newBuilder()
                .setStartCode(field(26)).setEndCode(field(27)).setStartStack(field(28))
                .setStartData(field(45)).setEndData(field(46)).setStartBrk(field(47))
                .setArgStart(field(48)).setArgEnd(field(49)).setEnvStart(field(50)).setEnvEnd(field(51));
    }
}
