from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@staff_member_required
@ensure_csrf_cookie
def label_page(request):
    """Render the page where staff choose or drop images and see their labels, through the REST API."""
    context = {
        "max_images": settings.LABELING_MAX_IMAGES,
        "max_wait_seconds": settings.LABELING_MAX_WAIT_SECONDS,
        "top_k": settings.LABELING_DEFAULT_TOP_K,
    }
    return render(request, "labeling/label_page.html", context)
