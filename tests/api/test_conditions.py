"""GET /conditions: the master list, with each condition's controlled-vocabulary term."""
from tests.support.world import HEALTHY_CONTROL_URL


def test_lists_conditions(world, get):
    body = get("/conditions", sort="-designation").get_json()
    assert body == {
        "items": [
            {"id": world.id("conditions", "HC"), "designation": "HC", "description": "healthy",
             "vocabulary": "NCIT", "term_code": "C94342", "term_url": HEALTHY_CONTROL_URL},
            {"id": world.id("conditions", "AD"), "designation": "AD",
             "description": "Alzheimer's", "vocabulary": None, "term_code": None,
             "term_url": None},
        ],
        "total": 2, "page": 1, "per_page": 50, "next_cursor": None,
    }
