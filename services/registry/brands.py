"""COVID-19 vaccine brands used in Indonesia, so that one vaccine is not stored under five names."""

from __future__ import annotations

# Canonical name -> other names seen on cards and in exports (matched case-insensitively).
VACCINE_BRANDS: dict[str, tuple[str, ...]] = {
    "Sinovac": ("CoronaVac", "Sinovac CoronaVac", "Vaksin COVID-19 Bio Farma"),
    "AstraZeneca": ("AZ", "Vaxzevria", "ChAdOx1"),
    "Pfizer": ("Pfizer-BioNTech", "Comirnaty", "BioNTech"),
    "Moderna": ("Spikevax", "mRNA-1273"),
    "Sinopharm": ("BBIBP-CorV",),
    "Novavax": ("Nuvaxovid",),
    "Covovax": (),
    "Janssen": ("Johnson & Johnson", "J&J"),
    "Sputnik V": ("Sputnik", "Gam-COVID-Vac"),
    "Zifivax": (),
    "IndoVac": (),
    "AWcorna": (),
    "Inavac": (),
    "Cansino": ("Convidecia",),
}

_BY_NAME = {
    name.casefold(): canonical
    for canonical, aliases in VACCINE_BRANDS.items()
    for name in (canonical, *aliases)
}


def canonical_brand(name: str) -> str | None:
    """The canonical brand for a name as written, or None when the brand is not known."""
    return _BY_NAME.get(" ".join(name.split()).casefold())
