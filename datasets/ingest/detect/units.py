"""Units named in headers (`PM2.5 (µg/m³)`, `speed_kmh`) split from the name and normalised to
the spelling CityLens uses.
"""

from __future__ import annotations

import re
import unicodedata

UNIT_ALIASES: dict[str, str] = {}


def _aliases(canonical: str, *names: str) -> None:
    for name in (canonical, *names):
        UNIT_ALIASES[_unit_key(name)] = canonical


def _unit_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("μ", "µ").replace("³", "3").replace("²", "2").replace("^", "")
    return re.sub(r"[\s_.·]+", "", text)


_aliases("µg/m³", "ug/m3", "µg/m3", "mcg/m3", "ugm3", "ug/m³", "ug m-3", "微克/立方米", "μg/m3")


_aliases("mg/m³", "mg/m3", "mgm3", "mg m-3", "毫克/立方米")


_aliases("ppb", "ppbv")


_aliases("ppm", "ppmv")


_aliases("km/h", "kmh", "kph", "km/hr", "kmph", "km h-1", "公里/小时", "千米/小时", "km/u")


_aliases("m/s", "ms-1", "m s-1", "米/秒")


_aliases("mph", "mi/h")


_aliases("°C", "degc", "c", "celsius", "℃", "摄氏度", "ºc", "grados")


_aliases("°F", "degf", "f", "fahrenheit", "℉", "ºf")


_aliases("%", "percent", "pct", "百分比")


_aliases("mm", "millimetres", "millimeters", "毫米")


_aliases("kWh", "千瓦时")


_aliases("MWh", "兆瓦时")


_aliases("GWh", "吉瓦时")


_aliases("t", "tonnes", "tons", "tonne", "吨", "toneladas")


_aliases("kg", "kilograms", "千克", "公斤")


_aliases("km", "kilometres", "kilometers", "公里", "千米")


_aliases("m", "metres", "meters", "米")


_aliases("min", "minutes", "minutos", "分钟")


_aliases("h", "hours", "hr", "horas", "小时")


_aliases("veh/h", "vehicles/h", "veh/hour", "vph", "辆/小时")


_BRACKETED = re.compile(r"^(?P<base>.*?)\s*[(\[{（【](?P<unit>[^()\[\]{}（）【】]+)[)\]}）】]\s*$")
_SUFFIXED = re.compile(r"^(?P<base>.+?)[\s_]+(?:in\s+|en\s+)?(?P<unit>[^\s_]+)$", re.IGNORECASE)
_SUFFIX_UNITS = {"ugm3", "µg/m3", "ug/m3", "mg/m3", "mgm3", "kmh", "km/h", "kph", "ms-1"}


def normalize_unit(text: str) -> str | None:
    """The canonical spelling of a unit (`ug/m3` → `µg/m³`), or None if it is not one we know."""
    return UNIT_ALIASES.get(_unit_key(text))


def split_unit(header: str) -> tuple[str, str | None]:
    """`PM2.5 (µg/m³)` → (`PM2.5`, `µg/m³`); `speed_kmh` → (`speed`, `km/h`); else (header, None).

    Only units we know are taken, so `Station (name)` stays whole.
    """
    m = _BRACKETED.match(header)
    if m and m.group("base").strip():
        unit = normalize_unit(m.group("unit"))
        if unit:
            return m.group("base").strip(), unit
    m = _SUFFIXED.match(header)
    if m and _unit_key(m.group("unit")) in _SUFFIX_UNITS:
        return m.group("base").strip(), normalize_unit(m.group("unit"))
    return header, None
