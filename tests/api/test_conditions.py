"""GET /conditions: the master list."""


def test_lists_conditions(world, get):
    body = get("/conditions", sort="-designation").get_json()
    assert body == {
        "items": [
            {"id": world.id("conditions", "HC"), "designation": "HC", "description": "healthy"},
            {"id": world.id("conditions", "AD"), "designation": "AD",
             "description": "Alzheimer's"},
        ],
        "total": 2, "page": 1, "per_page": 50, "next_cursor": None,
    }
