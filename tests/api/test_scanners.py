"""GET /scanners: scanners of live datasets, filtered by dataset, manufacturer, field strength."""
import pytest


def test_lists_scanners_with_their_dataset(world, get):
    body = get("/scanners").get_json()
    assert body["total"] == 3
    assert body["items"][0] == {
        "id": world.id("scanners", "siemens3"), "dataset": "ALPHA", "manufacturer": "Siemens",
        "model": "Prisma", "serial": "S1", "field_strength": 3.0}


@pytest.mark.parametrize(("params", "expected"), [
    ({"dataset": "BETA"}, ["philips3"]),
    ({"manufacturer": "ge"}, ["ge15"]),
    ({"field_strength": 3.0}, ["siemens3", "philips3"]),
    ({"dataset": "ALPHA", "field_strength": 3}, ["siemens3"]),
])
def test_filters(world, get, params, expected):
    body = get("/scanners", **params).get_json()
    assert world.names("scanners", [item["id"] for item in body["items"]]) == expected
    assert body["total"] == len(expected)


def test_sort_by_field_strength(world, get):
    body = get("/scanners", sort="field_strength").get_json()
    assert world.names("scanners", [item["id"] for item in body["items"]]) == [
        "ge15", "siemens3", "philips3"]
