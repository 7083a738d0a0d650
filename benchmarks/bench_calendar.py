"""Benchmark the business-calendar engine against ``businesstimedelta``.

    python benchmarks/bench_calendar.py [--pairs 100000] [--ref-pairs 1000] [--seed 2026]

Builds the Medisoft calendar (Mon-Fri 08:30-12:00 and 13:30-17:30,
America/Sao_Paulo, Brazilian national holidays), draws random (start, end) pairs
over 2026 with a fixed seed, times ``BusinessCalendar.elapsed`` over all of them and
``businesstimedelta`` (same rules: two WorkDayRules and a HolidayRule with the same
holiday dates, same zone) over the first ``--ref-pairs`` of them, and counts the
pairs where the two disagree by even one second.

businesstimedelta walks the calendar period by period (about 30 pairs per second
here), so comparing all 100,000 pairs takes about an hour: pass
``--ref-pairs 100000`` for that. Exit status 1 when any compared pair disagrees.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from deskctl.domain.calendar import build_calendar
from deskctl.domain.policy import CalendarSpec

TARGET_OPS = 300_000
ZONE = "America/Sao_Paulo"
MORNING = (8 * 3600 + 1800, 12 * 3600)
AFTERNOON = (13 * 3600 + 1800, 17 * 3600 + 1800)
MEDISOFT = CalendarSpec(
    name="medisoft",
    timezone=ZONE,
    hours={day: (MORNING, AFTERNOON) for day in range(5)},
    holidays=("BR",),
)


def draw_pairs(count: int, seed: int) -> list[tuple[datetime, datetime]]:
    rng = random.Random(seed)
    first = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    last = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
    pairs = []
    for _ in range(count):
        a, b = sorted((rng.randrange(first, last), rng.randrange(first, last)))
        pairs.append((datetime.fromtimestamp(a, UTC), datetime.fromtimestamp(b, UTC)))
    return pairs


def reference_rule():
    import businesstimedelta as btd
    import holidays
    import pytz

    tz = pytz.timezone(ZONE)

    def workday(start: tuple[int, int], end: tuple[int, int]):
        from datetime import time as clock

        return btd.WorkDayRule(
            start_time=clock(*start), end_time=clock(*end), working_days=[0, 1, 2, 3, 4], tz=tz
        )

    # A plain set of the same dates: HolidayRule only asks `day in holidays`.
    br = frozenset(holidays.country_holidays("BR", years=range(2025, 2028)))
    return btd.Rules(
        [workday((8, 30), (12, 0)), workday((13, 30), (17, 30)), btd.HolidayRule(br, tz=tz)]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--ref-pairs", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    pairs = draw_pairs(args.pairs, args.seed)
    ref_pairs = pairs[: min(args.ref_pairs, len(pairs))]

    started = time.perf_counter()
    calendar = build_calendar(MEDISOFT)
    calendar.elapsed(pairs[0][0], pairs[0][1])  # loads holidays and the 2025-2027 tables
    setup = time.perf_counter() - started

    elapsed = calendar.elapsed
    started = time.perf_counter()
    ours = [elapsed(a, b) for a, b in pairs]
    ours_time = time.perf_counter() - started
    ours_ops = len(pairs) / ours_time

    rule = reference_rule()
    started = time.perf_counter()
    theirs = []
    for a, b in ref_pairs:
        delta = rule.difference(a, b)
        theirs.append(delta.hours * 3600 + delta.seconds)
    ref_time = time.perf_counter() - started
    ref_ops = len(ref_pairs) / ref_time if ref_pairs else float("nan")

    mismatches = [
        (a, b, mine, other)
        for (a, b), mine, other in zip(ref_pairs, ours, theirs, strict=False)
        if mine != other
    ]

    print(f"calendar setup (first query, holidays + tables): {setup * 1000:.1f} ms")
    print(
        f"deskctl elapsed:    {len(pairs):>7} pairs in {ours_time:8.3f} s = {ours_ops:12,.0f} ops/s"
    )
    print(
        f"businesstimedelta:  {len(ref_pairs):>7} pairs in {ref_time:8.3f} s "
        f"= {ref_ops:12,.1f} ops/s"
    )
    if ref_pairs:
        print(f"speed ratio (deskctl / businesstimedelta): {ours_ops / ref_ops:,.0f}x")
    print(f"mismatches: {len(mismatches)} of {len(ref_pairs)} compared pairs")
    for a, b, mine, other in mismatches[:10]:
        print(f"  {a.isoformat()} -> {b.isoformat()}: deskctl {mine}s, businesstimedelta {other}s")
    verdict = "met" if ours_ops >= TARGET_OPS else "NOT met"
    print(f"target {TARGET_OPS:,} ops/s: {verdict}")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
