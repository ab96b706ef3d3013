"""Extension points that let higher apps plug into lower ones without upward imports.

- seeders: `seed_demo` runs every registered seeder in `order` (members first, then tiers...).
- member_home_panels: the member-centre home page renders each panel a higher app registers.
- member_export_sections: the privacy export (download my data) collects each section.
- member_nav_links: links in the member-centre navigation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(order=True)
class Seeder:
    order: int
    name: str = field(compare=False)
    func: Callable[..., Any] = field(compare=False)  # func(*, members: int, stdout, rng) -> None


@dataclass(order=True)
class Panel:
    order: int
    name: str = field(compare=False)
    template: str = field(compare=False)
    context: Callable[..., dict[str, Any]] = field(compare=False)  # context(request, member) -> dict


@dataclass(order=True)
class NavLink:
    order: int
    label: str = field(compare=False)
    url_name: str = field(compare=False)


_seeders: dict[str, Seeder] = {}
_panels: dict[str, Panel] = {}
_export_sections: dict[str, Callable[[Any], Any]] = {}
_nav_links: dict[str, NavLink] = {}


def register_seeder(name: str, func: Callable[..., Any], *, order: int) -> None:
    _seeders[name] = Seeder(order, name, func)


def seeders() -> list[Seeder]:
    return sorted(_seeders.values())


def register_home_panel(
    name: str, *, template: str, context: Callable[..., dict[str, Any]], order: int
) -> None:
    _panels[name] = Panel(order, name, template, context)


def home_panels() -> list[Panel]:
    return sorted(_panels.values())


def register_export_section(name: str, func: Callable[[Any], Any]) -> None:
    """func(member) -> JSON-serialisable data about that member."""
    _export_sections[name] = func


def export_sections() -> dict[str, Callable[[Any], Any]]:
    return dict(_export_sections)


def register_nav_link(name: str, *, label: str, url_name: str, order: int) -> None:
    _nav_links[name] = NavLink(order, label, url_name)


def nav_links() -> list[NavLink]:
    return sorted(_nav_links.values())
