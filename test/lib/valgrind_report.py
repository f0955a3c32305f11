#!/usr/bin/env python3
"""valgrind_report.py - read the logs of valgrind's memcheck (one file per
process, --log-file=DIR/vg.%p.log, with -s) and print what test/valgrind.sh
counts: the processes watched, every error that no suppression matched
(its first lines), and how many errors each suppression of
test/valgrind.supp hid. Exits 1 when any error was not suppressed.

    valgrind_report.py DIR

An error is counted where valgrind first prints it, in the log of the
process that made it (a forked child repeats its parent's errors only in
its exit summary, which is not counted). Suppressed errors are valgrind's
own per-process counts ("used_suppression" at exit), which in a child also
hold what its parent had suppressed before the fork: the report says how
many the postmaster itself suppressed, 0 when the counts are exact.
"""
import glob
import os
import re
import sys

PREAMBLE = re.compile(r"(Memcheck, a memory error detector|Copyright \(C\)|Using Valgrind-|Command: |Parent PID: |Warning: )")
END_OF_RUN = re.compile(r"(HEAP SUMMARY:|ERROR SUMMARY:|For lists of detected|errors in context|For counts of detected)")
LINE = re.compile(r"^==(\d+)== ?(.*)$")
USED = re.compile(r"^--\d+-- used_suppression:\s+(\d+) (\S+)")


def read_log(path):
    """(errors, suppressed, parent): errors as lists of lines, suppressed
    as {name: count}, parent the parent's pid."""
    errors, block, suppressed, parent, running = [], None, {}, None, True
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            raw = raw.rstrip("\n")
            u = USED.match(raw)
            if u:
                suppressed[u.group(2)] = suppressed.get(u.group(2), 0) + int(u.group(1))
                continue
            m = LINE.match(raw)
            if not m or not running:
                continue
            text = m.group(2)
            if text.startswith("Parent PID: "):
                parent = text.split()[-1]
            if END_OF_RUN.search(text):
                running = False
                if block:
                    errors.append(block)
                block = None
                continue
            if block is None:
                if text and not text.startswith(" ") and not PREAMBLE.match(text):
                    block = [text]
            elif text.strip():
                block.append(text)
            else:
                errors.append(block)
                block = None
    if block:
        errors.append(block)
    return errors, suppressed, parent


def main(directory):
    files = sorted(glob.glob(os.path.join(directory, "vg.*.log")))
    pids = {os.path.basename(p)[3:-4] for p in files}
    errors, suppressed, postmaster_supp = [], {}, 0
    for path in files:
        errs, supp, parent = read_log(path)
        pid = os.path.basename(path)[3:-4]
        errors.extend((pid, e) for e in errs)
        for name, count in supp.items():
            suppressed[name] = suppressed.get(name, 0) + count
        if parent not in pids:
            postmaster_supp += sum(supp.values())
    total_supp = sum(suppressed.values())
    print(f"# valgrind watched {len(files)} processes: {len(errors) + total_supp} errors, "
          f"{total_supp} suppressed, {len(errors)} not suppressed"
          f" (the postmaster itself suppressed {postmaster_supp})")
    for name, count in sorted(suppressed.items()):
        print(f"#   suppressed {count:5d}  {name}")
    for pid, lines in errors[:10]:
        print(f"# process {pid}: {lines[0]}")
        for line in lines[1:40]:         # the stack, and where the memory was freed or allocated
            print(f"#   {line}")
    if len(errors) > 10:
        print(f"# ... and {len(errors) - 10} more")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
