"""Who the KAMO simulator's areas are: ids, aggregates, and the invented members' identity.

Members 1-9 come from the captured fixtures (scripts/kamo_fixtures); 10-17 are invented
here, with fixed names and sizes that never depend on the seed. Standard library only.
"""

from __future__ import annotations

AREA_IDS = range(1, 21)
MEMBER_IDS = range(1, 18)
CAPTURED_IDS = range(1, 10)  # members whose real data is in the fixtures
AGGREGATES: dict[int, range] = {18: range(1, 10), 19: range(10, 18), 20: range(1, 18)}

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
