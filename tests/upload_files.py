"""Points files at the edge of what the app accepts, shared by the tests and the upload
benchmark (benchmarks/bench_upload.py)."""

from bn_core import exchange

HEADER = b"x1,x2,label\n"


def worst_legal_points_csv():
    """The costliest file parse_points_csv accepts: as close to MAX_POINTS_BYTES as rows of
    MAX_POINTS points allow, MAX_CLASSES classes, every label MAX_NAME_CHARS long and every
    feature written with as many digits as the remaining bytes allow."""
    labels = [
        f"{k}".rjust(exchange.MAX_NAME_CHARS, "L").encode() for k in range(exchange.MAX_CLASSES)
    ]
    row_bytes = (exchange.MAX_POINTS_BYTES - len(HEADER)) // exchange.MAX_POINTS
    digits = (row_bytes - exchange.MAX_NAME_CHARS - 3) // 2 - 7  # "-d." + digits + "e+dd"
    rows = []
    for i in range(exchange.MAX_POINTS):
        a = f"{(i * 7919 % 1000 - 500) * 1.000000001e-3:.{digits}e}"
        b = f"{(i * 104729 % 1000 - 500) * 1.000000001e-3:.{digits}e}"
        rows.append(
            f"{a:>{digits + 7}},{b:>{digits + 7}},".encode() + labels[i % exchange.MAX_CLASSES]
        )
    return HEADER + b"\n".join(rows) + b"\n"


def long_label_points_csv(label_chars=131_000, rows=5_000):
    """The upload that once took ~8 GB: `rows` points, two of whose labels (the same one, so
    the class is big enough) are `label_chars` characters long. 131,000 stays just under the
    csv module's field limit."""
    long_label = b"z" * label_chars
    lines = [
        f"{i % 97 * 0.01:.4f},{i % 89 * 0.01:.4f},".encode()
        + (long_label if i in (3, rows - 2) else b"ab"[i % 2 : i % 2 + 1])
        for i in range(rows)
    ]
    return HEADER + b"\n".join(lines) + b"\n"
