import sys, os
sys.path.insert(0, os.path.dirname(__file__))
import frame
for name in sys.argv[1:]:
    data = open(os.path.join(os.path.dirname(__file__), "..", "ci-logs", "cases", name, "trace.log"), "rb").read()
    lines = frame.logical_lines(data)
    print("=====", name, len(lines))
    on = False
    for i, l in enumerate(lines):
        t = frame.plain(l)
        print(f"{i+1:4}| {t}")
