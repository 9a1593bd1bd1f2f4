package dev.ferry.cli;

import java.util.ArrayList;
import java.util.List;

/** Left-aligned columns separated by two spaces; the last column is never padded. */
final class TextTable {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;

    TextTable(String... headers) {
        this.columns = headers.length;
        rows.add(headers);
    }

    void add(String... cells) {
        if (cells.length != columns) {
            throw new IllegalArgumentException("expected " + columns + " cells, got " + cells.length);
        }
        String[] clean = new String[columns];
        for (int c = 0; c < columns; c++) {
            clean[c] = printable(cells[c]);
        }
        rows.add(clean);
    }

    /** A cell stays on one line: control characters (a newline in an argument) become '?'. */
    static String printable(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            if (Character.isISOControl(text.charAt(i))) {
                if (out == null) {
                    out = new StringBuilder(text);
                }
                out.setCharAt(i, '?');
            }
        }
        return out == null ? text : out.toString();
    }

    String render() {
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int c = 0; c < columns - 1; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < columns; c++) {
                line.append(row[c]);
                if (c < columns - 1) {
                    line.append(" ".repeat(widths[c] - row[c].length() + 2));
                }
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }
}
