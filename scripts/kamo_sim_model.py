"""Data model of the KAMO simulator: areas, substations, hourly load and substation readings.

Everything here is a pure function of (seed, area, time) plus the captured fixtures, so two
simulators with the same seed and data clock produce identical responses. Standard library only.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

CENTRAL = ZoneInfo("America/Chicago")
FIXTURE_DIR = Path(__file__).resolve().parent / "kamo_fixtures" / "real-2026-01-04"

AREA_IDS = range(1, 21)
MEMBER_IDS = range(1, 18)
CAPTURED_IDS = range(1, 10)  # members whose real data is in the fixtures
AGGREGATES: dict[int, range] = {18: range(1, 10), 19: range(10, 18), 20: range(1, 18)}

HOUR = 3600
READING_PERIOD = 180  # KAMO refreshes the substation table about every 3 minutes
ACTUAL_HOURS = 12  # hours with values, ending with the current one
FUTURE_HOURS = 12  # null hours after the current one
PLACEHOLDER_RATE = 0.02  # readings with KAMO's "no reactive reading" kvar 0 / pf 0.0
ONE_DECIMAL_RATE = 0.01  # readings whose kw carries one decimal
MAX_TYPICAL_KW = 16500  # biggest invented substation on an average day; peaks reach ~25,000

# Typical load of the members not captured (kW); captured members are scaled from the fixtures.
INVENTED_SCALE_KW = {
    10: 52000,
    11: 34000,
    12: 61000,
    13: 74000,
    14: 27000,
    15: 66000,
    16: 90000,
    17: 84000,
}

# Invented substation names of the Oklahoma/Arkansas members. They are identity, so they are
# fixed here and never depend on the seed.
INVENTED_SUBSTATIONS: dict[int, tuple[str, ...]] = {
    10: (
        "Stillwater N.", "Stillwater S.", "Perkins", "Cushing 69", "Cushing 138", "Ripley",
        "Glencoe", "Yale", "Agra", "Carney", "Tryon", "Coyle", "Langston", "Mulhall", "Orlando",
        "Morrison",
    ),
    11: (
        "Stigler", "Sallisaw M1", "Sallisaw M2", "Vian", "Gore", "Cookson", "Keota", "Kinta",
        "Muldrow", "Roland", "Marble City", "Gans", "Webbers Falls", "Porum",
    ),
    12: (
        "Okmulgee 69", "Okmulgee 138", "Morris", "Beggs", "Henryetta", "Dewar", "Checotah",
        "Eufaula M1", "Eufaula M2", "Boynton", "Haskell", "Preston", "Schulter", "Hanna",
        "Council Hill", "Oktaha", "Grayson", "Hoffman", "Wainwright",
    ),
    13: (
        "Cleveland", "Hominy", "Fairfax", "Ralston", "Skedee", "Terlton", "Jennings", "Mannford",
        "Westport", "Keystone", "Osage", "Prue", "Sperry", "Skiatook N.", "Skiatook S.", "Wynona",
        "Barnsdall", "Avant", "Shidler", "Burbank", "Pawhuska",
    ),
    14: (
        "Wilburton", "Talihina", "Clayton", "Antlers", "Red Oak", "Hartshorne", "Haileyville",
        "Quinton", "Panola", "Tuskahoma", "Albion", "Moyers", "Finley",
    ),
    15: (
        "Vinita", "Grove M1", "Grove M2", "Afton", "Jay", "Miami 69", "Fairland", "Welch",
        "Bluejacket", "Ketchum", "Disney", "Langley", "Big Cabin", "Adair", "Commerce",
        "Wyandotte", "Quapaw",
    ),
    16: (
        "Westville", "Stilwell", "Watts", "Colcord", "Kansas", "Lincoln", "Prairie Grove",
        "Farmington", "Elkins", "Goshen", "Springdale 161", "Tontitown", "Elm Springs",
        "West Fork", "Winslow", "Greenland", "Siloam Springs", "Gentry", "Decatur", "Gravette",
        "Pea Ridge", "Bella Vista",
    ),
    17: (
        "Collinsville", "Owasso M1", "Owasso M2", "Oologah", "Talala", "Nowata", "Chelsea",
        "Claremore N.", "Claremore S.", "Catoosa", "Inola", "Foyil", "Sequoyah", "Verdigris",
        "Ramona",
    ),
}  # fmt: skip


def unit(*parts: object) -> float:
    """A deterministic pseudo-random number in [0, 1) derived from the parts."""
    key = "|".join(map(str, parts)).encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant that carries an offset (or Z) and return it in UTC."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (add Z or +HH:MM)")
    return value.astimezone(UTC)


def central_label(hour_index: int) -> str:
    """KAMO's label for the UTC hour starting at hour_index * 3600: Central wall clock."""
    local = datetime.fromtimestamp(hour_index * HOUR, UTC).astimezone(CENTRAL)
    return f"{local.month:02d}/{local.day:02d}/{local.year} {local.hour}:00"


def window_hours(now: datetime) -> list[int]:
    """The 24 consecutive UTC hour indexes of an areagrid answer (current hour is the 12th)."""
    current = math.floor(now.timestamp() / HOUR)
    first = current - ACTUAL_HOURS + 1
    return list(range(first, first + ACTUAL_HOURS + FUTURE_HOURS))


def load_shape(ts: float) -> float:
    """Relative system load at an instant: diurnal curve on Central time, season, weekend."""
    local = datetime.fromtimestamp(ts, UTC).astimezone(CENTRAL)
    h = local.hour + local.minute / 60
    doy = local.timetuple().tm_yday
    summer = math.cos(2 * math.pi * (doy - 200) / 365.25)  # 1 in July, -1 in January
    # Night trough, morning shoulder, evening peak; air conditioning deepens the swing and
    # moves the peak into the afternoon in summer, heating flattens it in winter.
    amplitude = 0.12 + 0.05 * summer
    peak = 18 - summer
    diurnal = 1 + amplitude * math.cos(2 * math.pi * (h - peak) / 24)
    diurnal += 0.04 * math.cos(2 * math.pi * (h - 7.5) / 12)
    # Two seasonal peaks (heating in January, cooling in July), lows in April and October.
    season = 1 + 0.12 * math.cos(4 * math.pi * (doy - 20) / 365.25)
    weekend = 0.97 if local.weekday() >= 5 else 1.0
    return diurnal * season * weekend


PEAK_WIDTH = 3 * HOUR  # a peak event ramps up and down over this long on each side


def peak_boost(ts: float, peak: tuple[float, float] | None) -> float:
    """Load multiplier of a staged peak event: `peak` = (centre instant, factor at the centre),
    falling linearly to 1 at PEAK_WIDTH either side. None: no event."""
    if peak is None:
        return 1.0
    centre, factor = peak
    return 1 + (factor - 1) * max(0.0, 1 - abs(ts - centre) / PEAK_WIDTH)


def day_factor(seed: int, area: int, ts: float) -> float:
    """Mild day-to-day variation, interpolated across each UTC day so it has no steps."""
    days = ts / 86400
    day = math.floor(days)
    a = 0.95 + 0.1 * unit(seed, area, "day", day)
    b = 0.95 + 0.1 * unit(seed, area, "day", day + 1)
    return a + (b - a) * (days - day)


class KamoModel:
    """The simulated KAMO data; the captured fixtures supply real names and magnitudes."""

    def __init__(self, fixture_dir: Path = FIXTURE_DIR) -> None:
        # A staged peak (the `peak_at`/`peak_factor` settings): (centre instant, factor).
        self.peak: tuple[float, float] | None = None
        self.areas: list[dict] = json.loads((fixture_dir / "area.json").read_text())
        self.substations: dict[int, list[str]] = {}
        self.weights: dict[int, list[float]] = {}
        self.scale: dict[int, float] = dict(INVENTED_SCALE_KW)
        for area in CAPTURED_IDS:
            table = json.loads((fixture_dir / f"arealoadtable-{area}.json").read_text())
            rows = table["areaLoadData"]
            self.substations[area] = [row["name"] for row in rows]
            # Real shares of the area's load keep small and large substations realistic.
            self.weights[area] = [max(float(row["kw"]), 50.0) for row in rows]
            grid = json.loads((fixture_dir / f"areagrid-{area}.json").read_text())
            self.scale[area] = _scale_from_grid(grid)
        for area, names in INVENTED_SUBSTATIONS.items():
            self.substations[area] = list(names)
            # Many small feeders and a few big ones (u**4); seed-independent like the names.
            weights = [0.04 + 5 * unit("weight", area, n) ** 4 for n in names]
            self.weights[area] = _cap_shares(weights, MAX_TYPICAL_KW / self.scale[area])

    # Hourly load (areagrid)

    def final_kw(self, seed: int, area: int, hour_index: int) -> float:
        """The settled load of a member for one UTC hour, in whole kW."""
        ts = hour_index * HOUR + HOUR / 2
        noise = 1 + 0.03 * (unit(seed, area, "hour", hour_index) - 0.5)
        value = self.scale[area] * load_shape(ts) * day_factor(seed, area, ts) * noise
        value *= peak_boost(ts, self.peak)
        return float(round(value))

    def member_kw(
        self, seed: int, area: int, hour_index: int, now: datetime, revise: int = 0
    ) -> float | None:
        """A member's value as served at `now`: None for the future, provisional for the
        current hour (grows from 90% to 100% over the hour), final plus `revise` before."""
        current = math.floor(now.timestamp() / HOUR)
        if hour_index > current:
            return None
        final = self.final_kw(seed, area, hour_index)
        if hour_index == current:
            minutes = math.floor((now.timestamp() - current * HOUR) / 60)
            return float(round(final * (0.9 + 0.1 * minutes / 60)))
        return final + revise

    def area_kw(
        self, seed: int, area: int, hour_index: int, now: datetime, revise: int = 0
    ) -> float | None:
        """Value of any area; an aggregate is the exact sum of its members."""
        members = AGGREGATES.get(area, (area,))
        values = [self.member_kw(seed, m, hour_index, now, revise) for m in members]
        if any(v is None for v in values):
            return None
        return float(sum(values))

    def areagrid(self, seed: int, area: int, now: datetime, revise: int = 0) -> dict:
        hours = window_hours(now)
        data = [self.area_kw(seed, area, h, now, revise) for h in hours]
        return {
            "Id": area,
            "chartLineData": [{"label": "Actual", "data": data}],
            "lineChartLabels": [central_label(h) for h in hours],
        }

    # Substation readings (arealoadtable)

    def readings(self, seed: int, area: int, now: datetime) -> list[dict]:
        """The substation table at `now`; values change once per 3-minute period."""
        if area not in self.substations:
            return []
        period = math.floor(now.timestamp() / READING_PERIOD)
        ts = period * READING_PERIOD
        level = self.scale[area] * load_shape(ts) * day_factor(seed, area, ts)
        level *= peak_boost(ts, self.peak)
        weights = self.weights[area]
        total_weight = sum(weights)
        rows = []
        for name, weight in zip(self.substations[area], weights, strict=True):
            rows.append(self._reading(seed, area, name, period, level * weight / total_weight))
        return rows

    def _reading(self, seed: int, area: int, name: str, period: int, mean_kw: float) -> dict:
        # draw(x) == unit(seed, area, name, period, x); the shared key prefix is built once
        # (a 30-day demo history draws about a million of these).
        prefix = f"{seed}|{area}|{name}|{period}|"

        def draw(what: str) -> float:
            digest = hashlib.blake2b((prefix + what).encode(), digest_size=8).digest()
            return int.from_bytes(digest, "big") / 2**64

        noise = 1 + 0.08 * (draw("kw") - 0.5)
        raw = max(mean_kw * noise, 1.0)
        if draw("decimal") < ONE_DECIMAL_RATE:
            tenth = 1 + math.floor(9 * draw("tenth"))
            kw = math.floor(raw) + tenth / 10
        else:
            kw = float(round(raw))
        if draw("placeholder") < PLACEHOLDER_RATE:
            kvar, pf = 0.0, 0.0
        else:
            # Each substation has its own reactive ratio in -40%..+30%, jittered per period.
            ratio = -0.4 + 0.7 * _base_ratio(seed, area, name)
            ratio += 0.04 * (draw("ratio") - 0.5)
            kvar = float(round(kw * ratio))
            if kvar == 0:
                kvar = -1.0 if ratio < 0 else 1.0  # 0 is reserved for the placeholder
            pf = power_factor(kw, kvar)
        return {
            "name": name,
            "kw": kw,
            "kvar": kvar,
            "pf": pf,
            "quality": False,
            "qualityNow": False,
        }

    def arealoadtable(self, seed: int, area: int, now: datetime) -> dict:
        return {"Id": area, "areaLoadData": self.readings(seed, area, now)}


@functools.lru_cache(maxsize=4096)
def _base_ratio(seed: int, area: int, name: str) -> float:
    """A substation's own draw for its reactive ratio (fixed; cached for long histories)."""
    return unit(seed, area, name, "ratio")


def power_factor(kw: float, kvar: float) -> float:
    """KAMO's signed power factor: two decimals, sign of kvar, 0.0 when kvar is 0."""
    if kvar == 0:
        return 0.0
    return math.copysign(round(kw / math.hypot(kw, kvar), 2), kvar)


def _cap_shares(weights: list[float], max_share: float) -> list[float]:
    """Lower the biggest weights until none is more than max_share of the total."""
    for _ in range(20):  # each pass lowers the total, so the limit too; this converges fast
        limit = max_share * sum(weights)
        weights = [min(w, limit) for w in weights]
    return weights


def _scale_from_grid(grid: dict) -> float:
    """Scale a captured member so the model reproduces the magnitude of its real values."""
    series = next(s for s in grid["chartLineData"] if s["label"].lower() == "actual")
    shapes, values = [], []
    for label, value in zip(grid["lineChartLabels"], series["data"], strict=True):
        if value is None:
            continue
        local = datetime.strptime(label, "%m/%d/%Y %H:%M").replace(tzinfo=CENTRAL)
        shapes.append(load_shape(local.timestamp() + HOUR / 2))
        values.append(value)
    return sum(values) / sum(shapes)
