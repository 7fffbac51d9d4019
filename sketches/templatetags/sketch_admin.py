"""The admin index's "Jobs" box: queue dashboard and the sketches that need a look."""

from django import template

register = template.Library()


@register.inclusion_tag("admin/sketches/_jobs_box.html")
def jobs_box():
    from ..admin import queue_links

    return queue_links()
