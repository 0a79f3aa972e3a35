"""Draw a seeded random sample of corpus pieces to label: ``python tests/data/real/draw.py FILE N SEED``.

Prints one JSON object per line, ``{"file", "line", "turn", "sha", "text"}``, for labelling by eye;
the label file keeps everything but ``text``. Empty pieces are never drawn. The same arguments
always draw the same pieces, so a sample can be redrawn and checked.
"""

import json
import random
import sys

from replies.realtext import real_dir, sha, turns


def draw(file: str, n: int, seed: int) -> list[dict]:
    """Return ``n`` distinct non-empty pieces of ``file`` drawn with ``random.Random(seed)``."""
    lines = (real_dir() / file).read_text(encoding="utf-8").splitlines()
    pieces = [(i, t, p) for i, line in enumerate(lines, 1) for t, p in enumerate(turns(line)) if p]
    chosen = sorted(random.Random(seed).sample(pieces, n))
    return [{"file": file, "line": i, "turn": t, "sha": sha(p), "text": p} for i, t, p in chosen]


if __name__ == "__main__":
    for row in draw(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])):
        print(json.dumps(row, ensure_ascii=False))
