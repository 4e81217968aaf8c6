"""The public catalogue as pages (CONTRACT section 5, "Candidate pages"): /roles/ lists the
back-office roles, /roles/<slug>/ tells what the work is, typical tasks, the pay range, the
certifications that help, how many open postings welcome newcomers, and leads to the free
consultation (/book/?role=<slug>, the role pre-selected). The same reads as the public API
(roles.selectors): no employer name or posting text, ever."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from roles.models import Role
from roles.selectors import role_get, role_list


def _view(role: Role) -> dict[str, Any]:
    share = getattr(role, "inexperienced_welcome_share", None)  # role_list's annotation
    japanese = (get_language() or "ja").startswith("ja")
    return {
        "role": role,
        "name": role.name_ja if japanese else role.name_en,
        "salary_min": role.annual_salary_min // 10_000,  # 万円, as pay is quoted in Japan
        "salary_max": role.annual_salary_max // 10_000,
        "welcome_percent": None if share is None else round(share * 100),
        "book_url": f"{reverse('book-direct')}?{urlencode({'role': role.slug})}",
    }


@require_GET
def role_index(request: HttpRequest) -> HttpResponse:
    return render(request, "roles/pages/index.html", {"roles": [_view(role) for role in role_list()]})


@require_GET
def role_page(request: HttpRequest, slug: str) -> HttpResponse:
    role = role_get(slug=slug)
    if role is None:
        raise Http404
    return render(request, "roles/pages/role.html", _view(role))
