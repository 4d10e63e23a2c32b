"""The master-list blueprint (GET /conditions, /file_types, /measures): each list keeps its own
names and columns in the OpenAPI document, and pages like any collection."""
import pytest

BASE = ["id", "designation", "description"]
TERM = ["vocabulary", "term_code", "term_url"]
MASTER_LISTS = [
    ("/conditions", "Condition",
     "List the conditions (their designations are the values of the condition filter).",
     BASE + TERM),
    ("/file_types", "FileType", "List the kinds of derived files.", BASE),
    ("/measures", "Measure", "List the measures (their designations are the values of the "
     "measure filter and of the measures columns).",
     BASE + ["unit", "kind", "minimum", "maximum", "levels", "per_subject"] + TERM),
]


@pytest.mark.parametrize(("path", "name", "summary", "columns"), MASTER_LISTS)
def test_each_master_list_is_documented_under_its_model_s_name(client, path, name, summary,
                                                               columns):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"][f"/api/v1{path}"]["get"]
    assert operation["summary"] == summary
    assert operation["tags"] == [path.removeprefix("/")]
    assert [p["name"] for p in operation["parameters"]] == [
        "page", "per_page", "sort", "cursor", "total"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{name}Page"}
    assert list(spec["components"]["schemas"][name]["properties"]) == columns


def test_a_master_list_pages_by_cursor(world, get):
    first = get("/conditions", sort="designation", per_page=1).get_json()
    second = get("/conditions", sort="designation", per_page=1,
                 cursor=first["next_cursor"]).get_json()
    assert [row["designation"] for row in first["items"] + second["items"]] == ["AD", "HC"]
    assert second["next_cursor"] is None


def test_a_master_list_refuses_a_filter_it_does_not_declare(get):
    response = get("/file_types", dataset="OASIS3")
    assert response.status_code == 400
    assert "dataset" in response.get_json()["errors"]
