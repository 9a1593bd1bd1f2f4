package dev.ferry.it;

/** Small programs the migration tests run, each compared with an uninterrupted local run. */
final class TestPrograms {
  static final String PYTHON = "/usr/bin/python3";
  /** argv: LINES PERIOD_S TOKEN. Numbered lines, then exit 5; the token only names the LH. */
  static final String NUMBERED = String.join("\n",
      "import sys, time",
      "for n in range(int(sys.argv[1])):",
      "    print('line', n, flush=True)",
      "    time.sleep(float(sys.argv[2]))",
      "sys.exit(5)");

  private TestPrograms() {}
}
