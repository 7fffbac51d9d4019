"""``/favicon.ico``: browsers and bots ask for it at the root whatever the pages link to."""

from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    # Not permanent: the static URL carries a content hash in production and changes with the icon.
    return HttpResponseRedirect(static("img/favicon.ico"))
