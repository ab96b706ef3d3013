from django import template
from django.utils.translation import gettext

from core import registry

register = template.Library()


@register.simple_tag
def member_nav_links():
    return [{"label": gettext(link.label), "url_name": link.url_name} for link in registry.nav_links()]


@register.filter
def mask(value: str, keep: str = "3,4") -> str:
    """110105199001011234 → 110***********1234"""
    if not value:
        return ""
    head, tail = (int(x) for x in keep.split(","))
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]
