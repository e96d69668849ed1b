"""The time zones a page may use: IANA's location zones (Area/Location) and UTC.

`zoneinfo.available_timezones()` also lists names that are not places: the machine's own
`localtime`, tzdata's placeholder `Factory`, `posixrules`, `posix/…` and `right/…` copies,
fixed offsets with inverted signs (`Etc/GMT+5` is UTC−5), and old abbreviations (`EST5EDT`,
`US/Eastern`). A page's days and times are shown to its visitors in its zone, so it must name
a place they recognise.
"""

from __future__ import annotations

import zoneinfo

AREAS = frozenset({"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic",
                   "Australia", "Europe", "Indian", "Pacific"})  # fmt: skip
TIME_ZONE_MESSAGE = "“{name}” is not a time zone we know: choose a place (Europe/Paris) or UTC."


def _is_location(name: str) -> bool:
    return name == "UTC" or (name.partition("/")[0] in AREAS and "/" in name)


TIME_ZONES = frozenset(name for name in zoneinfo.available_timezones() if _is_location(name))


def is_known_time_zone(name: str) -> bool:
    return name in TIME_ZONES
