"""Drives a running Atlas Search with the official Meilisearch Python client.

Reads ATLAS_URL and ATLAS_MASTER_KEY; every check is an assertion, so any difference from
what the client expects of Meilisearch ends the script with a traceback and status 1.
"""

import datetime
import os

import meilisearch
from meilisearch.errors import MeilisearchApiError

URL = os.environ["ATLAS_URL"]
MASTER_KEY = os.environ["ATLAS_MASTER_KEY"]

client = meilisearch.Client(URL, MASTER_KEY, timeout=20)

# Health and version.
assert client.health() == {"status": "available"}, client.health()
assert client.is_healthy()
assert client.get_version()["pkgVersion"], client.get_version()

records = client.index("records")

# Search with filter, facets, sort and highlighting.
result = records.search(
    "attention",
    {
        "filter": "year >= 2017",
        "facets": ["year"],
        "sort": ["year:desc"],
        "attributesToHighlight": ["title"],
    },
)
titles = [hit["title"] for hit in result["hits"]]
assert titles == [
    "Attention mechanisms in neural networks: a survey",
    "Attention is all you need",
], titles
assert result["estimatedTotalHits"] == 2, result
assert result["facetDistribution"]["year"] == {"2017": 1, "2020": 1}, result
assert "<em>Attention</em>" in result["hits"][0]["_formatted"]["title"], result["hits"][0]

# Facet search, as a searchable refinement list asks for a facet's values.
facet_values = records.facet_search("type", "ART", {"filter": "year >= 2017"})
assert facet_values["facetHits"] == [{"value": "article", "count": 2}], facet_values
assert facet_values["facetQuery"] == "ART", facet_values
try:
    records.facet_search("title", "a")
    raise AssertionError("a facet search on an attribute that is not filterable answered")
except MeilisearchApiError as error:
    assert error.code == "invalid_facet_search_facet_name", error

# Offset and limit, then pages.
page = records.search("", {"offset": 1, "limit": 2, "sort": ["year:asc"]})
assert [hit["year"] for hit in page["hits"]] == [2010, 2016], page["hits"]
pages = records.search("", {"page": 2, "hitsPerPage": 2})
assert pages["totalHits"] == 5 and pages["totalPages"] == 3, pages
assert len(pages["hits"]) == 2, pages

# A typo and a folded diacritic are forgiven.
assert records.search("warmeschutz")["hits"][0]["title"] == "Wärmeschutz im Hochbau"

# Multi-search, plain and federated.
multi = client.multi_search(
    [
        {"indexUid": "records", "q": "residual"},
        {"indexUid": "records", "q": "coelacanthe"},
    ]
)
assert [len(result["hits"]) for result in multi["results"]] == [1, 1], multi
assert multi["results"][1]["hits"][0]["title"] == "Cœlacanthe fossils of Madagascar"
federated = client.multi_search(
    [{"indexUid": "records", "q": "attention"}, {"indexUid": "records", "q": "deep"}],
    federation={},
)
assert len(federated["hits"]) == 3, federated
assert all("_federation" in hit for hit in federated["hits"])

# Documents.
document_id = result["hits"][0]["id"]
document = records.get_document(document_id)
assert document.title == "Attention mechanisms in neural networks: a survey", document
documents = records.get_documents({"limit": 2})
assert len(documents.results) == 2 and documents.total == 5, documents
try:
    records.add_documents([{"id": "new"}])
    raise AssertionError("a document write was accepted")
except MeilisearchApiError as error:
    assert error.code == "immutable_index", error

# Indexes.
index = client.get_index("records")
assert index.primary_key == "id", index
assert {index.uid for index in client.get_indexes()["results"]} == {
    "records",
    "works",
    "profiles",
}

# Settings, and a change the client waits for as a task.
settings = records.get_settings()
assert "year" in settings["filterableAttributes"], settings
task = records.update_stop_words(["the"])
finished = client.wait_for_task(task.task_uid, timeout_in_ms=10_000)
assert finished.status == "succeeded", finished
assert records.get_stop_words() == ["the"]
records.reset_stop_words()

# Statistics.
stats = records.get_stats()
assert stats.number_of_documents == 5, stats
all_stats = client.get_all_stats()
assert all_stats["indexes"]["records"]["numberOfDocuments"] == 5, all_stats

# Errors keep Meilisearch's codes.
try:
    client.index("nothing").search("x")
    raise AssertionError("an unknown index answered")
except MeilisearchApiError as error:
    assert error.code == "index_not_found", error

# Keys, and a tenant token the client signs itself.
keys = client.get_keys().results
search_key = next(key for key in keys if key.name == "Default Search API Key")
search_client = meilisearch.Client(URL, search_key.key)
assert len(search_client.index("records").search("attention")["hits"]) == 2
tenant_key = client.create_key(
    {"actions": ["search"], "indexes": ["*"], "expiresAt": None, "name": "tenants"}
)
token = client.generate_tenant_token(
    api_key_uid=tenant_key.uid,
    search_rules={"records": {"filter": "year < 2017"}},
    api_key=tenant_key.key,
    expires_at=datetime.datetime.now(tz=datetime.timezone.utc) + datetime.timedelta(hours=1),
)
tenant_hits = meilisearch.Client(URL, token).index("records").search("")["hits"]
assert sorted(hit["year"] for hit in tenant_hits) == [2001, 2010, 2016], tenant_hits

print("meilisearch client: every check passed")
