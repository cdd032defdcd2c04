"""Cursor pagination for every list (stable under inserts; `next` / `previous` links).

Kept apart from the base classes: DRF's settings import it while `rest_framework.views` loads."""

from rest_framework import pagination


class ApiCursorPagination(pagination.CursorPagination):
    ordering = "pk"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
