"""{% field_review_notice %}: on the duplicate review queue, the registrations made offline that wait for
the same kind of decision (they are not records yet, so they are not pairs of the queue itself)."""

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.inclusion_tag("field/_review_notice.html", takes_context=True)
def field_review_notice(context):
    from vitreem.field.selectors import review_queue_for_user

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"count": 0}
    try:
        url = reverse("field:review")
    except NoReverseMatch:  # a test's own URLconf without the field app
        return {"count": 0}
    return {"count": review_queue_for_user(user=user).count(), "url": url}
