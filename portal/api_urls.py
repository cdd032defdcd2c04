"""The portal app's API under `api/v1/` (root URLconf): the schema and its documentation, the
organization, people and certifications. Other apps add theirs from their own API URL module.
URL names start with `api-`; the isolation tests walk every `orgs/<partner_id>/` route here."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from portal import apis

ORG = "orgs/<str:partner_id>/"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", template_name="portal/api/redoc.html"),
        name="api-redoc",
    ),
    path("ping/", apis.PingApi.as_view({"get": "ping"}), name="api-ping"),
    path(ORG, apis.OrganizationApi.as_view({"get": "retrieve"}), name="api-organization"),
    path(
        ORG + "people/",
        apis.PersonApi.as_view({"get": "list", "post": "create"}),
        name="api-person-list",
    ),
    path(
        ORG + "people/<str:person_id>/",
        apis.PersonApi.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="api-person-detail",
    ),
    path(
        ORG + "people/<str:person_id>/certifications/",
        apis.HeldCertificationApi.as_view({"get": "list", "post": "create"}),
        name="api-person-certification-list",
    ),
    path(
        ORG + "people/<str:person_id>/certifications/<str:code>/",
        apis.HeldCertificationApi.as_view(
            {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}
        ),
        name="api-person-certification-detail",
    ),
    path(
        "catalog/certifications/",
        apis.CertificationCatalogApi.as_view({"get": "list"}),
        name="api-catalog-certification-list",
    ),
    path(
        "catalog/certifications/<str:code>/",
        apis.CertificationCatalogApi.as_view({"get": "retrieve"}),
        name="api-catalog-certification-detail",
    ),
]
